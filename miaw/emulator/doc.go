// Package emulator is a local, faithful emulator of Salesforce Enhanced Messaging
// (MIAW) as described in docs/miaw-api.md: the REST API v2 under
// /iamessage/api/v2, the Event Router SSE stream at /eventrouter/v1/sse and the
// unauthenticated /embeddedservice/v1 configuration endpoints, served over real
// HTTP with the same paths, headers, status codes and JSON shapes.
//
// It owns the Salesforce side of a conversation: it verifies customer identity
// JWTs (RS256/RS512, kid looked up in a JWKS, iss, exp; aud ignored), issues
// expiring HS256 access tokens with subject
// "v2/iamessage/AUTH/<keyset>/uid:<sub>", validates requests the way
// Salesforce does (X-Org-Id required on the SSE stream only — REST calls
// need just Authorization and Content-Type, as Salesforce's sample app sends
// them —, lowercase UUID v4 conversation ids, deployment
// names, string routing attributes within maxLength, 417 after a messaging
// session ended, 413/415 for files), and streams every event of a user's
// conversations on one SSE stream per user. Every error body is
// {"message":"…","status":N}.
//
// # SSE
//
// Events are written by hand as "event:", "id:" and "data:" lines; the
// conversationEntry.entryPayload inside data is a JSON string (in the entries
// listing it is an object). Ids are opaque, "<ms>-<seq>" with a per-user
// monotonic seq. A per-user ring of Config.ReplayBuffer events serves
// Last-Event-ID (any header case): a stream resumes exactly after that id, and
// "0" replays the whole ring. Events older than Config.ReplayWindow (or out
// of the ring) are not replayed: the stream silently carries on from what it
// has, and a client catches up from the conversation entries list. The access-token response's lastEventId is the
// user's newest id. "ping" keep-alives (no id) are sent every PingInterval. A
// stream ends when its access token expires (the reconnect then gets 401 "Jwt
// is expired") or is revoked.
//
// # Event sequences (miaw-api.md §2.5)
//
//   - create conversation, or a message with isNewMessagingSession after the
//     session ended: RoutingResult (Initial, None, EWT), SessionStatusChanged
//     (Waiting), QueuePosition; routing status INITIAL.
//   - Accept: RoutingWorkResult (Accepted), ParticipantChanged (add Agent),
//     SessionStatusChanged (Active), delivery acks of messages sent while
//     waiting; routing status ROUTED.
//   - End-user message/file/typing: echoed with sender role EndUser; with an
//     agent present a DeliveryAcknowledgement follows at once, and a
//     ReadAcknowledgement when the agent answers (or AgentRead).
//   - Agent message, link (RichLink), file (Attachments, downloadable from
//     /emulator/files/{id} on the emulator's own host) and typing.
//   - Agent rich content: ChoicesMessage (Buttons, QuickReplies, Carousel),
//     FormMessage (Inputs), WebView, or any raw abstractMessage. The end
//     user's ChoicesResponseMessage must name a choices message of the
//     conversation and options it offered (400 otherwise); it is recorded
//     in the transcript (TranscriptEntry.Choice).
//   - Transfer: ParticipantChanged (remove), routing status TRANSFER, then
//     after Config.TransferDelay RoutingResult (Transfer), RoutingWorkResult
//     (Accepted), ParticipantChanged (add).
//   - StallTransfer (a transfer that never finds an agent): ParticipantChanged
//     (remove), routing status TRANSFER, then nothing — no agent joins, no
//     routing failure. The session stays Active with no agent (end-user
//     messages are not acknowledged). A late Accept then sends what a
//     completing transfer does: RoutingResult (Transfer), RoutingWorkResult
//     (Accepted), ParticipantChanged (add), and the pending delivery acks.
//   - AgentEnd: ParticipantChanged (remove), SessionStatusChanged (Ended by
//     Agent); routing status NEEDS_ROUTING; the next message gets 417.
//   - TimeoutQueue: RoutingResult (failureType RoutingError),
//     SessionStatusChanged (Ended).
//   - End session (DELETE …/session): as AgentEnd, ended by EndUser. Close
//     conversation (DELETE …/{id}): ends the session, then CloseConversation.
//
// # Agent side
//
// The agent side can be driven three ways: the Go API on *Server (Accept,
// AgentSend, AgentSendLink, AgentSendFile, AgentSendChoices, AgentSendForm,
// AgentSendWebView, AgentSendRaw, AgentTyping, AgentRead, Transfer,
// FailTransfer, StallTransfer, MarkInactive, AgentEnd, TimeoutQueue,
// Conversations, Transcript, UserPresence, Stats),
// the JSON control API that mirrors it under /emulator/v1/ (GET
// conversations, GET conversations/{id}, GET conversations/{id}/transcript,
// GET conversations/{id}/presence (the end user's typing indicators and
// acknowledgements, as received), POST
// conversations/{id}/accept|messages|links|files|choices|forms|webviews|raw|typing|transfer|fail-transfer|stall-transfer|inactive|read|end|timeout,
// GET stats; 404 unknown conversation, 409 wrong state, 400 bad input), and
// the agent console web page at /emulator/console. A ScriptedAgent accepts,
// answers, shares a link and a file, and ends sessions on its own.
//
// # Business hours
//
// GET /embeddedservice/v1/businesshours answers the business hours of the
// deployment named by esConfigName in Salesforce's shape
// ({"businessHoursInfo":{"name","isActive":true,
// "businessHours":[{"startTime","endTime"}]}}, epoch milliseconds; windows
// that have ended are left out). By default it is open around the clock (one
// window from an hour ago to a day ahead). SetBusinessHours sets explicit
// windows, SetBusinessHoursOpen(false) closes (no window), true restores the
// default, all for Config.DeploymentName; SetBusinessHoursFor and
// SetBusinessHoursOpenFor do the same for any deployment name, which the
// endpoint then answers. An esConfigName that is neither gets 400 (the
// emulator's unknown-deployment answer; Salesforce's is not documented, see
// hours.go). The control API mirrors them (GET /emulator/v1/businesshours
// [?deployment=], POST with {"open": bool} or {"windows": [...]} and an
// optional "deployment") and the console has an open/closed toggle and a
// schedule editor.
//
// # Conversation History API
//
// With Config.ConversationHistory set, the emulator also plays the
// connected app's login server and Salesforce's Conversation History API
// (history.go): POST /services/oauth2/token swaps an RS256 JWT bearer
// assertion for an opaque OAuth token, and POST /api/v1/conversationHistory
// imports a third-party bot's conversation (up to 5 entries per call,
// validated as Salesforce does, errors {"code","message"}) into a
// conversation, deduplicated by entry id and ordered by time. The agent
// sees it before the live chat on the console; ImportedHistory and the
// control API's conversation view (importedHistory) return it.
// SetConversationHistoryRefused, POST /emulator/v1/conversation-history
// {"refused": bool} and a console checkbox make uploads answer 403 code
// 10057. Stats counts uploads accepted and refused.
//
// # Faults
//
// Faults injects dropped streams (DropStreamEvery), duplicate events
// (DuplicateRate, same id twice), delayed events (EventDelay), 503 and 429
// answers to REST calls (ErrorRate, ThrottleRate with Retry-After: 1 and
// ThrottleBurst) and early token expiry (TokenTTL; with TokenTTLOnce, for
// each user's first token only), all from one RNG seeded with Seed and all
// counted in Stats. Server.ExpireTokens makes every token issued so far
// expire at once. The control API, the console and file downloads are never
// faulted.
//
// # Use in tests
//
//	keyPEM, jwksPath, _ := emulator.GenerateKeyPair(t.TempDir(), "kid-1")
//	jwks, _ := os.ReadFile(jwksPath)
//	srv, _ := emulator.New(emulator.Config{JWKS: jwks, Issuer: "my-issuer"})
//	base, _ := srv.Start("127.0.0.1:0") // or httptest.NewServer(srv.Handler())
//	defer srv.Close()
//	// point the miaw client at base (AllowAnyHost), OrgID "00D000000000001",
//	// DeploymentName "Live_Agent_Bridge", PrivateKeyFile keyPEM, KeyID "kid-1".
//
// The command cmd/miaw-emulator runs it on its own.
package emulator
