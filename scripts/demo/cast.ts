// Who is in the demo network and what they do, as data: twelve people, then every action in
// the order the demo sends it. Handles stand for people; `@{handle}` in a text becomes that
// person's username of this run. Nothing here does I/O (scenario.ts sends it).

export type Person = { handle: string; name: string; bio: string };

export type Action =
  | { kind: 'post'; by: string; ref: string; text: string }
  | { kind: 'follow'; by: string; of: string[] }
  | { kind: 'like'; by: string; posts: string[] }
  | { kind: 'comment'; by: string; post: string; text: string }
  | { kind: 'message'; by: string; to: string; ref: string; text: string }
  /** `by` reads their conversation with `with` up to that conversation's newest message */
  | { kind: 'read'; by: string; with: string }
  | { kind: 'stream'; by: string; title: string; description: string };

export type Part = Action['kind'];

/** The person the summary and the curl commands look through. */
export const featured = 'maya';
/** Who just joined: a second set of suggestions. */
export const newcomer = 'ravi';
/** What the featured person searches their messages for (a word only one conversation holds). */
export const searchWord = 'schema';

export const people: Person[] = [
  { handle: 'maya', name: 'Maya Chen', bio: 'Product designer in Lisbon. Sketching interfaces, collecting houseplants.' },
  { handle: 'omar', name: 'Omar Haddad', bio: 'Backend engineer. Postgres whisperer, amateur baker.' },
  { handle: 'lena', name: 'Lena Novak', bio: 'Photographer. Film cameras, long walks, bad puns.' },
  { handle: 'tariq', name: 'Tariq Ahmed', bio: 'Cycling coach and weekend bike mechanic.' },
  { handle: 'sofia', name: 'Sofia Rossi', bio: 'Chef at a tiny trattoria. Pasta is a love language.' },
  { handle: 'kenji', name: 'Kenji Watanabe', bio: 'Indie game developer: pixel art and synthwave.' },
  { handle: 'amara', name: 'Amara Okafor', bio: 'Climate researcher. Data, maps and hiking boots.' },
  { handle: 'lucas', name: 'Lucas Martin', bio: 'Jazz pianist and music teacher.' },
  { handle: 'priya', name: 'Priya Raman', bio: 'ML engineer by day, bouldering by night.' },
  { handle: 'noah', name: 'Noah Fischer', bio: 'Live coding every Friday. Kafka, Redis and too much coffee.' },
  { handle: 'ines', name: 'Inês Duarte', bio: 'Architect. Concrete, light and espresso.' },
  { handle: 'ravi', name: 'Ravi Kapoor', bio: 'Just moved to town. Say hi!' },
];

const posts: Action[] = [
  { kind: 'post', by: 'maya', ref: 'maya-garden', text: 'First sketches for the community garden app are up. Feedback welcome!' },
  { kind: 'post', by: 'maya', ref: 'maya-search', text: 'Hot take: every settings page deserves a search box.' },
  { kind: 'post', by: 'omar', ref: 'omar-index', text: 'Shaved 40% off our p99 with one index. Always read EXPLAIN ANALYZE.' },
  { kind: 'post', by: 'lena', ref: 'lena-river', text: 'Golden hour at the river tonight. Shot the whole roll on Portra 400.' },
  { kind: 'post', by: 'tariq', ref: 'tariq-ride', text: 'Group ride Saturday 8am from the old bridge: 60 km, coffee stop included.' },
  { kind: 'post', by: 'sofia', ref: 'sofia-risotto', text: 'New on the menu tonight: saffron risotto with roasted fennel.' },
  { kind: 'post', by: 'kenji', ref: 'kenji-demo', text: 'The demo build of my pixel platformer is out: three levels so far.' },
  { kind: 'post', by: 'amara', ref: 'amara-heat', text: 'We published our map of urban heat islands across 40 cities.' },
  { kind: 'post', by: 'lucas', ref: 'lucas-gig', text: 'Trio gig at the Blue Room on Thursday. Come say hi!' },
  { kind: 'post', by: 'priya', ref: 'priya-v5', text: 'Finally sent my first V5 at the climbing gym!' },
  { kind: 'post', by: 'noah', ref: 'noah-live', text: 'Live tonight: building a realtime chat with Kafka and Redis.' },
  { kind: 'post', by: 'ines', ref: 'ines-light', text: 'Light study for the library project: north-facing skylights all the way.' },
];

// maya follows only omar and lena, who follow others: friends of friends for maya
const follows: Action[] = [
  { kind: 'follow', by: 'maya', of: ['omar', 'lena'] },
  { kind: 'follow', by: 'omar', of: ['maya', 'priya', 'kenji', 'noah'] },
  { kind: 'follow', by: 'lena', of: ['maya', 'ines', 'sofia', 'noah'] },
  { kind: 'follow', by: 'tariq', of: ['sofia', 'amara', 'maya'] },
  { kind: 'follow', by: 'sofia', of: ['lena', 'lucas', 'tariq'] },
  { kind: 'follow', by: 'kenji', of: ['noah', 'priya', 'omar'] },
  { kind: 'follow', by: 'amara', of: ['priya', 'tariq', 'ines', 'maya'] },
  { kind: 'follow', by: 'lucas', of: ['sofia', 'ines'] },
  { kind: 'follow', by: 'priya', of: ['kenji', 'amara', 'noah', 'maya'] },
  { kind: 'follow', by: 'noah', of: ['kenji', 'omar'] },
  { kind: 'follow', by: 'ines', of: ['lena', 'amara', 'lucas'] },
  { kind: 'follow', by: 'ravi', of: ['maya', 'noah'] },
];

const likes: Action[] = [
  { kind: 'like', by: 'omar', posts: ['maya-garden', 'lena-river', 'noah-live'] },
  { kind: 'like', by: 'lena', posts: ['maya-garden', 'maya-search', 'sofia-risotto'] },
  { kind: 'like', by: 'tariq', posts: ['maya-garden', 'sofia-risotto', 'amara-heat'] },
  { kind: 'like', by: 'sofia', posts: ['tariq-ride', 'lucas-gig'] },
  { kind: 'like', by: 'kenji', posts: ['noah-live', 'priya-v5', 'omar-index'] },
  { kind: 'like', by: 'amara', posts: ['maya-search', 'ines-light'] },
  { kind: 'like', by: 'lucas', posts: ['sofia-risotto'] },
  { kind: 'like', by: 'priya', posts: ['kenji-demo', 'maya-garden', 'omar-index'] },
  { kind: 'like', by: 'noah', posts: ['kenji-demo', 'omar-index'] },
  { kind: 'like', by: 'ines', posts: ['lena-river', 'amara-heat'] },
  { kind: 'like', by: 'ravi', posts: ['maya-garden', 'noah-live'] },
  { kind: 'like', by: 'maya', posts: ['lena-river', 'omar-index'] },
];

const comments: Action[] = [
  { kind: 'comment', by: 'omar', post: 'maya-garden', text: 'Love it! @{lena} you should shoot the garden for the launch.' },
  { kind: 'comment', by: 'lena', post: 'maya-garden', text: 'Count me in. @{omar} will you host the backend?' },
  { kind: 'comment', by: 'priya', post: 'omar-index', text: 'Which index? Asking for a friend, @{kenji}.' },
  { kind: 'comment', by: 'tariq', post: 'sofia-risotto', text: 'Booking a table after the ride. @{amara} @{lucas} in?' },
  { kind: 'comment', by: 'ravi', post: 'maya-search', text: 'Agreed! New in town, thanks for the welcome @{maya}.' },
  { kind: 'comment', by: 'kenji', post: 'noah-live', text: "I'll be there. @{priya} bring your consumer-group questions." },
  { kind: 'comment', by: 'amara', post: 'maya-search', text: '@{ines} would love your take on this from the architecture side.' },
  { kind: 'comment', by: 'maya', post: 'lena-river', text: 'Stunning. @{ines} this is the light you keep talking about.' },
];

// maya ends with unread messages from omar (1) and lena (2); ravi and tariq have read theirs
const messages: Action[] = [
  { kind: 'message', by: 'omar', to: 'maya', ref: 'omar-maya-1', text: 'Hey Maya, got a minute to look at the garden app schema?' },
  { kind: 'message', by: 'maya', to: 'omar', ref: 'maya-omar-1', text: 'Sure, send it over!' },
  { kind: 'read', by: 'maya', with: 'omar' },
  { kind: 'message', by: 'omar', to: 'maya', ref: 'omar-maya-2', text: 'Sent. Also: lunch on Thursday?' },
  { kind: 'message', by: 'lena', to: 'maya', ref: 'lena-maya-1', text: 'Here are the contact sheets from the river shoot.' },
  { kind: 'message', by: 'lena', to: 'maya', ref: 'lena-maya-2', text: 'Frame 12 would make a great header for the app.' },
  { kind: 'message', by: 'ravi', to: 'noah', ref: 'ravi-noah-1', text: 'Big fan of the streams! Any tips for a Kafka beginner?' },
  { kind: 'message', by: 'noah', to: 'ravi', ref: 'noah-ravi-1', text: 'Start with consumer groups, then join tonight’s stream.' },
  { kind: 'read', by: 'ravi', with: 'noah' },
  { kind: 'message', by: 'sofia', to: 'tariq', ref: 'sofia-tariq-1', text: 'Table for six reserved on Saturday, 11:30.' },
  { kind: 'read', by: 'tariq', with: 'sofia' },
];

const stream: Action[] = [
  { kind: 'stream', by: 'noah', title: 'Live coding: a realtime chat on Kafka and Redis', description: 'Consumer groups, read receipts and unread counters, from scratch.' },
];

export const actions: Action[] = [...posts, ...follows, ...likes, ...comments, ...messages, ...stream];
