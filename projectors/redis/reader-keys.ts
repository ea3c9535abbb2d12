// The seed's Redis keys (section 4.1) that readers read, in one place: the mappings write
// them, the API reads them. (apply.lua derives two of them, `conversation:unread` and
// `user:conversations`, and spells them too.) Redis Cluster support will add a hash tag here.
export const readerKeys = {
  notificationsRecent: (user: unknown) => `notification:recent:${user}`,
  notificationsUnread: (user: unknown) => `notification:unread:${user}`,
  following: (user: unknown) => `user:following:${user}`,
  followers: (user: unknown) => `user:followers:${user}`,
  conversations: (user: unknown) => `user:conversations:${user}`,
  conversationUnread: (user: unknown, conversation: unknown) => `conversation:unread:${user}:${conversation}`,
  liveNow: 'stream:live',
  streamMeta: (stream: unknown) => `stream:meta:${stream}`,
  // caches the API and the recommendation workers fill (not views of PostgreSQL rows)
  recommendedUsers: (user: unknown) => `user:recommended:${user}`,
  recommendedPosts: (user: unknown) => `recommendation:user:${user}`,
  trendingPosts: 'recommendation:trending',
} as const;
