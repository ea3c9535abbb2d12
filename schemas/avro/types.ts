// Generated from the .avsc files in this folder by `scripts/nova schemas types`. Do not edit.
import type { Unchanged } from '../../projectors/runtime/decode/index.ts';

export type LiveStreamsKey = {
  id: number;
};

export type LiveStreamsRow = {
  id: number;
  user_id: number;
  title: string | Unchanged;
  description: null | string | Unchanged;
  thumbnail_url: null | string | Unchanged;
  rtmp_url: string | Unchanged;
  hls_url: null | string | Unchanged;
  status: null | string | Unchanged;
  viewer_count: null | number;
  peak_viewer_count: null | number;
  started_at: null | Date;
  ended_at: null | Date;
  created_at: null | Date;
};

export type ConversationsKey = {
  id: number;
};

export type ConversationsRow = {
  id: number;
  participant1_id: number;
  participant2_id: number;
  last_message_id: null | number;
  last_message_at: null | Date;
  created_at: null | Date;
};

export type MessageReadStatusKey = {
  user_id: number;
  conversation_id: number;
};

export type MessageReadStatusRow = {
  user_id: number;
  conversation_id: number;
  last_read_message_id: number;
  last_read_at: null | Date;
};

export type MessagesKey = {
  id: number;
};

export type MessagesRow = {
  id: number;
  conversation_id: number;
  sender_id: number;
  content: string | Unchanged;
  message_type: null | string | Unchanged;
  metadata: null | unknown | Unchanged;
  is_deleted: null | boolean;
  created_at: null | Date;
};

export type NotificationSettingsKey = {
  user_id: number;
};

export type NotificationSettingsRow = {
  user_id: number;
  push_enabled: null | boolean;
  email_enabled: null | boolean;
  types_disabled: null | Array<null | string> | Unchanged;
  updated_at: null | Date;
};

export type NotificationsKey = {
  id: number;
};

export type NotificationsRow = {
  id: number;
  user_id: number;
  type: string | Unchanged;
  actor_id: number;
  target_type: null | string | Unchanged;
  target_id: null | number;
  content: null | unknown | Unchanged;
  is_read: null | boolean;
  created_at: null | Date;
  read_at: null | Date;
};

export type PushTokensKey = {
  id: number;
};

export type PushTokensRow = {
  id: number;
  user_id: number;
  platform: string | Unchanged;
  token: string | Unchanged;
  created_at: null | Date;
  last_used_at: null | Date;
};

export type PostEmbeddingsKey = {
  post_id: number;
};

export type PostEmbeddingsRow = {
  post_id: number;
  embedding: Array<null | number> | Unchanged;
  model_version: string | Unchanged;
  updated_at: Date;
};

export type UserEmbeddingsKey = {
  user_id: number;
};

export type UserEmbeddingsRow = {
  user_id: number;
  embedding: Array<null | number> | Unchanged;
  model_version: string | Unchanged;
  updated_at: Date;
};

export type FollowsKey = {
  id: number;
};

export type FollowsRow = {
  id: number;
  follower_id: number;
  followee_id: number;
  status: null | string | Unchanged;
  created_at: null | Date;
};

export type PostsKey = {
  id: number;
};

export type PostsRow = {
  id: number;
  author_id: number;
  text: string | Unchanged;
  created_at: null | Date;
};

export type UserStatsKey = {
  user_id: number;
};

export type UserStatsRow = {
  user_id: number;
  follower_count: null | number;
  following_count: null | number;
  post_count: null | number;
  updated_at: null | Date;
};

export type UsersKey = {
  id: number;
};

export type UsersRow = {
  id: number;
  username: string | Unchanged;
  avatar_url: null | string | Unchanged;
  bio: null | string | Unchanged;
  created_at: null | Date;
};

export type UserInteractionsKey = {
  id: number;
};

export type UserInteractionsRow = {
  id: number;
  user_id: number;
  target_type: string | Unchanged;
  target_id: number;
  interaction_type: string | Unchanged;
  interaction_value: null | number;
  metadata: null | unknown | Unchanged;
  created_at: null | Date;
};

/** Topic name -> the key and row types its changes carry. */
export type TopicRows = {
  'nova.live.live_streams': { key: LiveStreamsKey; row: LiveStreamsRow };
  'nova.message.conversations': { key: ConversationsKey; row: ConversationsRow };
  'nova.message.message_read_status': { key: MessageReadStatusKey; row: MessageReadStatusRow };
  'nova.message.messages': { key: MessagesKey; row: MessagesRow };
  'nova.notification.notification_settings': { key: NotificationSettingsKey; row: NotificationSettingsRow };
  'nova.notification.notifications': { key: NotificationsKey; row: NotificationsRow };
  'nova.notification.push_tokens': { key: PushTokensKey; row: PushTokensRow };
  'nova.recommendation.post_embeddings': { key: PostEmbeddingsKey; row: PostEmbeddingsRow };
  'nova.recommendation.user_embeddings': { key: UserEmbeddingsKey; row: UserEmbeddingsRow };
  'nova.social.follows': { key: FollowsKey; row: FollowsRow };
  'nova.social.posts': { key: PostsKey; row: PostsRow };
  'nova.social.user_stats': { key: UserStatsKey; row: UserStatsRow };
  'nova.social.users': { key: UsersKey; row: UsersRow };
  'nova.user.user_interactions': { key: UserInteractionsKey; row: UserInteractionsRow };
};
