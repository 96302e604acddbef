package miaw

// The JSON request bodies of the conversation endpoints (docs/miaw-api.md
// §1.6–1.10; the access-token body is accessTokenRequest in auth.go). Each
// body is a struct so its shape is in one place and checked by the compiler.
//
// Fields are declared in the alphabetical order of their JSON names: that is
// the order the bodies have always had on the wire, and wire_test.go pins
// every body byte for byte. omitempty marks keys sent only when set;
// omitzero on a map sends it when non-nil, even when empty ({}).

// createConversationBody is the body of POST /conversation.
type createConversationBody struct {
	ConversationID    string            `json:"conversationId"`
	ESDeveloperName   string            `json:"esDeveloperName"`
	Language          string            `json:"language,omitempty"`
	RoutingAttributes map[string]string `json:"routingAttributes,omitzero"`
}

// sendMessageBody is the body of POST /conversation/{id}/message.
// IsNewMessagingSession and RoutingAttributes are set only when a new
// messaging session is started (after a 417).
type sendMessageBody struct {
	ESDeveloperName       string            `json:"esDeveloperName"`
	IsNewMessagingSession bool              `json:"isNewMessagingSession,omitempty"`
	Language              string            `json:"language,omitempty"`
	Message               textMessageBody   `json:"message"`
	RoutingAttributes     map[string]string `json:"routingAttributes,omitzero"`
}

// textMessageBody is the "message" of sendMessageBody.
type textMessageBody struct {
	ID                 string            `json:"id"`
	InReplyToMessageID string            `json:"inReplyToMessageId,omitempty"`
	MessageType        string            `json:"messageType"` // always messageTypeStaticContent
	StaticContent      staticTextContent `json:"staticContent"`
}

// messageTypeStaticContent is the messageType of every message we send.
const messageTypeStaticContent = "StaticContentMessage"

// staticTextContent is a text message's content.
type staticTextContent struct {
	FormatType string `json:"formatType"` // always FormatText
	Text       string `json:"text"`
}

// fileEntryBody is the JSON "messageEntry" part of the multipart POST
// /conversation/{id}/file. Unlike sendMessageBody it always carries
// isNewMessagingSession and routingAttributes (RoutingAttributes must be
// non-nil: {} when there are none), as the documented example does.
type fileEntryBody struct {
	ESDeveloperName       string            `json:"esDeveloperName"`
	IsNewMessagingSession bool              `json:"isNewMessagingSession"`
	Language              string            `json:"language,omitempty"`
	Message               fileMessageBody   `json:"message"`
	RoutingAttributes     map[string]string `json:"routingAttributes"`
}

// fileMessageBody is the "message" of fileEntryBody; Text is the caption.
type fileMessageBody struct {
	FileID string `json:"fileId"`
	ID     string `json:"id"`
	Text   string `json:"text,omitempty"`
}

// typingBody is the body of POST /conversation/{id}/entry.
type typingBody struct {
	EntryType string `json:"entryType"` // EntryTypingStarted or EntryTypingStopped
	ID        string `json:"id"`        // a fresh UUID
}

// acknowledgeBody is the body of POST /conversation/{id}/acknowledge-entries.
type acknowledgeBody struct {
	Acks []ackBody `json:"acks"`
}

// ackBody is one acknowledgement of acknowledgeBody.
type ackBody struct {
	ConversationEntryID string `json:"conversationEntryId"` // the acknowledged entry
	EntryType           string `json:"entryType"`           // "Delivery" or "Read"
	ID                  string `json:"id"`                  // a fresh UUID
}
