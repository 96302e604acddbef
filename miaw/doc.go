// Package miaw is the project's single client for Salesforce Enhanced
// Messaging ("Messaging for In-App and Web", MIAW): the REST API v2 under
// /iamessage/api/v2 and the Event Router Server-Sent Events stream at
// /eventrouter/v1/sse. It knows nothing of Temporal; everything in the
// project that speaks MIAW goes through it, and this comment is the place to
// learn how we speak it. The field-by-field evidence behind each choice is in
// docs/miaw-api.md (section numbers below refer to it).
//
// # Hosts and configuration
//
// All calls go to the org's SCRT ("Messaging") URL,
// https://<mydomain>.my.salesforce-scrt.com (sandbox:
// <mydomain>--<sbx>.sandbox.my.salesforce-scrt.com). Config.Validate insists
// on https and the salesforce-scrt.com suffix, as Salesforce's own sample app
// does, unless Config.AllowAnyHost is set for the emulator. The org id must
// start with 00D and have 15 or 18 characters; we send its 15-character form
// everywhere (one client reports that the SSE X-Org-Id must be the 15-char
// id; the REST calls accept both). The deployment is an Embedded Service
// deployment of type Custom Client ("api"), named by its developer name
// (esDeveloperName).
//
// # Authentication (§1.1–1.4, §3)
//
// Verified users (AuthVerified, the default): for each end user we mint a
// customer identity JWT with the configured RSA key (PKCS#1 or PKCS#8 PEM,
// >= 2048 bits): header alg RS256 (or RS512) and kid = Config.KeyID; claims
// iss = Config.Issuer (must equal the keyset's Issuer), sub = the caller's
// userID, iat, exp = iat + IdentityTokenTTL (5 minutes). No aud: Salesforce's
// own key tool sets none and aud appears not to be checked. The JWT is sent
// to
//
//	POST /iamessage/api/v2/authorization/authenticated/access-token
//	{"orgId","esDeveloperName","capabilitiesVersion":"1","platform":"Web",
//	 "authorizationType":"JWT","customerIdentityToken","context":{"appName","clientVersion"}}
//
// which answers {"accessToken","lastEventId","context":{"endUser":{"subject"}}}.
// Salesforce may answer 200 with an anonymous subject when the keyset, kid or
// issuer is wrong, so we require "/AUTH/" in the subject (falling back to the
// access token's own sub claim when the body has none) and otherwise fail
// with ErrUnverifiedSubject, permanently.
//
// Guests (AuthGuest) use POST .../authorization/unauthenticated/access-token
// with the same body minus authorizationType and customerIdentityToken. Each
// guest token is a new anonymous Salesforce subject: a guest's conversations
// do not survive its token's expiry.
//
// The access token is itself a JWT. We read its exp claim without verifying
// it (we cannot) and cache one token per userID, renewing it RenewBefore
// (60s) before exp, or at half its lifetime when that is shorter, by minting
// a fresh identity JWT: the continuation token
// (GET .../authorization/continuation-access-token, Client.ContinuationToken)
// does not extend expiry, so it is not our renewal mechanism. If a token has
// no readable exp we assume 5 minutes. Renewals are single-flighted per user,
// and all token calls share an org-wide rate limiter (TokenRequestsPerMinute,
// default 180; Salesforce allows 200 per minute per org), in which a stream's
// reconnect takes only a free slot and never queues ahead of a user action
// (tokenbudget.go). Any call answered
// 401 drops the token, mints a new one and is retried once. With
// Config.TokenStoreDir, tokens are also kept sealed in a directory the
// workers share, and a worker takes a valid stored token before minting one
// (tokenstore.go): a takeover of many streams then costs no token budget.
// Client.RevokeToken calls DELETE .../authorization/authenticated/access-token
// (a 401 there means already revoked and counts as success).
//
// # Endpoints (§1.6–1.15)
//
// Every call carries X-Org-Id and, except the two access-token POSTs,
// Authorization: Bearer <accessToken>. JSON bodies use Content-Type
// application/json.
//
//	Method    Path (under /iamessage/api/v2)                    Client method       Success
//	POST      /authorization/authenticated/access-token         Token               200
//	POST      /authorization/unauthenticated/access-token       Token (guest)       200
//	GET       /authorization/continuation-access-token          ContinuationToken   200
//	DELETE    /authorization/authenticated/access-token         RevokeToken         2xx
//	POST      /conversation                                     CreateConversation  200/201 (body ignored)
//	POST      /conversation/{id}/message                        SendMessage         202 {"conversationEntries":[{"id","clientTimestamp"}]}
//	POST      /conversation/{id}/file   (multipart)             SendFile            202 (same body)
//	POST      /conversation/{id}/entry                          SendTyping          202
//	POST      /conversation/{id}/acknowledge-entries            Acknowledge         202
//	GET       /conversation/{id}/entries                        ListEntries         200
//	GET       /conversation/list?inclClosedConvs=&limit=        ListConversations   200
//	GET       /conversation/{id}                                RoutingStatus       200 {"routingStatus"}
//	DELETE    /conversation/{id}/session?esDeveloperName=       EndSession          204
//	DELETE    /conversation/{id}?esDeveloperName=               CloseConversation   204
//	GET       /eventrouter/v1/sse  (not under /iamessage)       Stream              200 text/event-stream
//	GET       /embeddedservice/v1/businesshours?orgId=&esConfigName=  BusinessHours  200 (unauthenticated)
//
// BusinessHours (§1.18) needs no access token: it answers
// {"businessHoursInfo":{"name","isActive","businessHours":[{"startTime","endTime"}]}}
// in epoch milliseconds. Salesforce's mobile SDK reads it as open when
// isActive and the time is within a window; an answer without
// businessHoursInfo is reported as Configured false (no business hours).
//
// Conversation ids are made by the caller and must be lowercase UUID v4
// (Salesforce answers 400 "Specify the conversationId in UUID format."
// otherwise); we check before calling. Create conversation sends
// {conversationId, esDeveloperName, routingAttributes, language}; routing
// attributes are the hidden pre-chat fields, always a flat map of strings.
//
// A message is {"message":{"id","messageType":"StaticContentMessage",
// "staticContent":{"formatType":"Text","text"},"inReplyToMessageId"?},
// "esDeveloperName","language"?}. message.id is the caller's UUID so a retry
// re-sends the same id. A 417 means the conversation has no active messaging
// session (the agent ended it): SendMessage and SendFile then re-send the
// same message id once with "isNewMessagingSession":true plus the routing
// attributes ({} if none) and a language (DefaultLanguage if none), and
// report SendResult.NewSession; with TextMessage.NoNewSession (File too) they
// return the 417 instead, for a chat that ends with its session (the
// bridge's case: a new session would be routed to an agent again). Like the
// official sample app we omit the optional keys otherwise.
//
// A file is multipart/form-data with two parts: "messageEntry"
// (application/json: {"esDeveloperName","message":{"id","fileId","text"?},
// "isNewMessagingSession","routingAttributes","language"?}) and "fileData"
// (the bytes, with filename and the file's Content-Type). Salesforce's limit
// is 5 MB (413 above) and it answers 415 for blocked types; we check size
// (MaxAttachmentBytes) and refuse executables, scripts, HTML and SVG before
// uploading.
//
// Typing indicators are {"entryType":"TypingStartedIndicator"|"TypingStoppedIndicator","id"}.
// Receipts are {"acks":[{"id","entryType":"Delivery"|"Read","conversationEntryId"}]}
// with a fresh id per ack. Entries are listed with limit (<= 50),
// startTimestamp, endTimestamp, direction (FromStart|FromEnd) and
// entryTypeFilter.
//
// # Events (§2)
//
// One SSE stream per end user carries the events of all that user's
// conversations (Event.ConversationID tells them apart), including echoes of
// the user's own messages (sender role EndUser). Stream sends Authorization,
// X-Org-Id and Last-Event-ID, decodes each event with DecodeEvent and calls
// the handler in order. Salesforce replays after Last-Event-ID only within
// its replay window; a caller catches up on the rest in StreamOptions.OnConnect
// with EntriesSince (the entries list, oldest first) and EntryEvent. Event
// data is an envelope {channelPlatformKey,
// channelType, channelAddressIdentifier, conversationId, conversationEntry};
// conversationEntry.entryPayload is a JSON string on SSE and an object in
// entry listings (evidence conflicts), so both are accepted everywhere.
// Typed payloads: Message (text, attachments, rich links), ParticipantChanged
// (add/remove with role), RoutingResult (routingType, failureType,
// estimatedWaitTime), RoutingWorkResult, SessionStatusChanged,
// QueuePosition, typing started/stopped, delivery/read acknowledgements
// (AcknowledgedEntryID falls back to relatedRecords[0], which the sample app
// uses) and CloseConversation (sent only when the end user closes; a session
// ended by the agent shows as SessionStatusChanged Ended plus a participant
// removal, and RoutingStatus NEEDS_ROUTING). "ping" keep-alives and event
// types we do not model (Salesforce adds new ones at any time) are skipped;
// malformed events are logged at warn, counted in Stats and skipped, never
// fatal. The rich-link shape is undocumented: linkItem.titleItem is accepted
// as a string or {"title"}.
//
// Event ids are opaque. The stream ends at the latest when the access token
// expires (the reconnect is refused with 401 "Jwt is expired"), and may drop
// at any time, so Stream owns a reconnect loop: exponential backoff with
// jitter from 0.5s to 30s (reset once events flow; a server Retry-After is
// honoured), Last-Event-ID = the id of the last event it handled, a renewed
// token after a 401 (four 401s in a row, each with a fresh token, end Stream
// with that 401), and a reconnect when nothing (not even a ping) arrived for
// 90s. The first connection, when the caller has no cursor, starts from the
// lastEventId returned with the user's access token. Stats counts token
// requests, reconnects, malformed events and skipped ones (pings included). The client never drops or repeats an event across reconnects by
// itself; the server may send duplicates, which callers dedupe by Event.ID
// or entry identifier. A process holding thousands of streams starts each
// with GoStream, which runs it in a goroutine whose idle stack is as small as
// a bare body reader's (BenchmarkIdleStreamStack).
//
// # Conversation history (notes/historyapi-spec.md)
//
// HistoryClient (history.go) loads the assistant's conversation into the
// agent's console with the Interaction Service API's POST
// /api/v1/conversationHistory on BaseURL, authorised by a connected app's
// OAuth JWT bearer token (POST {LoginURL}/services/oauth2/token, cached until
// a 401, then re-minted once). Upload sends the entries newest first, at most
// HistoryBatchSize per call, with ids derived from the conversation id and
// entry index so a retried or resumed batch repeats the same ids; it refuses
// before any call an upload holding anything older than 24 hours.
//
// # Errors and retries (§6)
//
// Every failed call returns *Error with the operation, method, endpoint
// template ({id} instead of ids), status, Salesforce's message and
// Retry-After. Error bodies vary (plain text such as "Jwt is expired",
// {"message"}, Spring-style {"status","error","path"}, arrays of
// {"errorCode","message"}); all are read. Retryable (IsRetryable): 408, 429,
// 5xx and network errors. Permanent: 400, 401 after the automatic re-mint,
// 403, 404 (IsNotFound), 413, 415, 417 after the automatic re-send,
// ErrUnverifiedSubject, ErrInvalidRequest (bad arguments, caught before any
// call) and ErrAttachmentTooLarge. Apart from the 401 re-mint and the 417
// re-send, REST calls are not retried here: callers (Temporal activities)
// own retry policy. Tokens, keys and message texts never appear in errors
// or logs (Token's String and LogValue redact the secret).
//
// # Attachments (§4)
//
// Agent attachments arrive as Message events with formatType Attachments and
// attachments[{id,name,mimeType,url}]. Whether the URL needs a bearer token
// is undocumented, so DownloadAttachment tries without credentials and on
// 401/403 once more with the user's bearer token. To keep a hostile URL from
// reaching internal services it only fetches https (http with AllowAnyHost)
// from BaseURL's host or Config.AttachmentHosts, re-checking every redirect;
// it caps the body at MaxDownloadBytes (25 MiB) and the whole download at
// DownloadTimeout (60s).
package miaw
