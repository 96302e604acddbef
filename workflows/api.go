package workflows

import (
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// Task queues. Listeners (one long-running SSE activity per open session) run on
// their own queue with an explicit slot budget so they never starve the short
// Salesforce and delivery activities on TaskQueue.
const (
	TaskQueue         = "live-agent"
	ListenerTaskQueue = "live-agent-listener"
)

// WorkflowTaskTimeout is the workflow task timeout sessions and listener
// shards start with (continued runs keep it). A task whose worker, or whose
// Temporal node, was lost while it ran is given to another worker only after
// this long, so it bounds the delay such a loss adds to a message (the
// server's default is 10 s). Tasks take milliseconds; a local activity that
// runs longer keeps its task alive by heartbeating it.
const WorkflowTaskTimeout = 5 * time.Second

// Names of the workflow and its message handlers. They are part of the
// persisted contract: renaming one breaks running sessions.
const (
	WorkflowName = "LiveAgentSession"

	// UpdateSendMessage takes a UserMessage and returns an UpdateResult.
	UpdateSendMessage = "send-message"
	// UpdateSendAttachment takes a UserAttachment and returns an UpdateResult.
	UpdateSendAttachment = "send-attachment"
	// UpdateClose takes a UserClose and returns an UpdateResult.
	UpdateClose = "close"
	// SignalAgentEvent carries one AgentEvent from the SSE listener.
	SignalAgentEvent = "agent-event"
	// QueryState returns a SessionView.
	QueryState = "state"
)

// Typed search attributes set on every session so operators can find it in the
// Temporal Web UI ("LiveAgentState = 'waiting'"). They must be registered on the
// namespace (see SearchAttributes).
var (
	SearchAttrState          = temporal.NewSearchAttributeKeyKeyword("LiveAgentState")
	SearchAttrTopic          = temporal.NewSearchAttributeKeyKeyword("LiveAgentTopic")
	SearchAttrUser           = temporal.NewSearchAttributeKeyKeyword("LiveAgentUser")
	SearchAttrConversationID = temporal.NewSearchAttributeKeyKeyword("LiveAgentConversationId")
)

// SearchAttributes lists the custom search attributes the workflow upserts,
// for registration on a namespace.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		SearchAttrState.GetName():          enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SearchAttrTopic.GetName():          enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SearchAttrUser.GetName():           enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		SearchAttrConversationID.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	}
}

// WorkflowID is the id of the one live session a user may have. Starting with
// WorkflowIDConflictPolicy USE_EXISTING makes a second start return the
// running session.
func WorkflowID(userID string) string { return "live-agent-session-" + userID }

// State is where a session is in its lifecycle.
type State string

const (
	StateRouting State = "routing" // creating the Salesforce conversation
	StateWaiting State = "waiting" // queued, waiting for an agent to accept
	StateActive  State = "active"  // an agent is chatting with the user
	StateClosing State = "closing" // cleaning up the Salesforce side
	StateClosed  State = "closed"  // finished; nothing open in Salesforce
)

// CloseReason says why a session ended.
type CloseReason string

const (
	CloseAgentEnded    CloseReason = "agent-ended"
	CloseUserClosed    CloseReason = "user-closed"
	CloseAcceptTimeout CloseReason = "accept-timeout"
	CloseRoutingFailed CloseReason = "routing-failed"
	// CloseAgentsOffline: live agents stopped being available (the end of
	// business hours, SessionRequest.AvailableUntil) while the user waited.
	CloseAgentsOffline CloseReason = "agents-offline"
	// CloseNoRoutingResult: Salesforce said nothing about routing within
	// Settings.RoutingResultTimeout after the conversation was created.
	CloseNoRoutingResult CloseReason = "no-routing-result"
	// CloseRefused: Salesforce refused to create the conversation for good
	// (for example a routing attribute the deployment does not accept).
	CloseRefused CloseReason = "salesforce-refused"
	// CloseIdle: no message either way for Settings.IdleTimeout, or
	// Salesforce ended a session it had marked Inactive (customer
	// inactivity) before anyone wrote again; the user is then told
	// Settings.InactiveEndedMessage.
	CloseIdle      CloseReason = "idle-timeout"
	CloseFailed    CloseReason = "failed"
	CloseCancelled CloseReason = "cancelled"
)

// ErrTypeInvalidRequest is the ApplicationError type of the non-retryable
// error a session fails with when its input is invalid.
const ErrTypeInvalidRequest = "InvalidSessionRequest"

// ErrTypeSalesforcePermanent is the ApplicationError type of an activity
// whose Salesforce call was refused for good (400, 403, 404, 413, 415); a
// refused CreateConversation closes the session as CloseRefused.
const ErrTypeSalesforcePermanent = "SalesforcePermanent"

// ApplicationError types of a user file Salesforce refused: too large (413)
// or of a type it does not accept (415). A file kept while waiting for an
// agent and refused so is explained to the user by name.
const (
	ErrTypeAttachmentTooLarge  = "AttachmentTooLarge"
	ErrTypeUnsupportedFileType = "UnsupportedFileType"
)

// SessionRequest is what the assistant asks for. It carries no secret.
type SessionRequest struct {
	UserID      string
	Topic       string
	Description string
	Locale      string // e.g. "en_US"; empty means Settings.DefaultLocale
	// AvailableUntil is when live agents stop being available (the end of the
	// current business hours), as the starter saw it; zero means no known
	// end. A session still waiting for an agent then closes with
	// CloseAgentsOffline and Settings.OfflineMessage.
	AvailableUntil time.Time `json:",omitzero"`
	// Summary is the assistant's short summary of the conversation before
	// the handoff; the agent reads it with the description in the first
	// message (handoff.go).
	Summary string `json:",omitempty"`
	// History is the assistant's conversation before the handoff as one
	// readable file in the attachment store; it is attached to the
	// Salesforce conversation right after the first message.
	History *UserAttachment `json:",omitempty"`
	// HistoryImport is the same conversation as turns (a JSON array of
	// HandoffTurn in the attachment store), set when the deployment loads
	// it into the agent's console with the Conversation History API
	// (historyimport.go); History is then attached only if that fails.
	HistoryImport *UserAttachment `json:",omitempty"`
	Settings      Settings
}

// Settings are the configured session settings that apply to one session.
// They travel in the workflow input so a config change never alters a running
// session's behaviour mid-flight.
type Settings struct {
	Topics         []string      // allowed topics; Topic must be one of them
	AcceptTimeout  time.Duration // how long to wait for an agent to accept
	TimeoutMessage string        // shown to the user when nobody accepted in time
	Greeting       string        // shown to the user when an agent accepts
	// AgentEndedMessage is shown when the agent (or Salesforce) ends the chat.
	AgentEndedMessage string
	// The notices below are shown on the failure paths named; an empty one
	// means an English default.
	OfflineMessage         string `json:",omitempty"` // agents went offline while the user waited
	RoutingFailedMessage   string `json:",omitempty"` // routing found no agent
	NoRoutingResultMessage string `json:",omitempty"` // routing said nothing in RoutingResultTimeout
	RefusedMessage         string `json:",omitempty"` // Salesforce refused the conversation
	FailedMessage          string `json:",omitempty"` // a permanent technical failure
	TransferFailedMessage  string `json:",omitempty"` // a transfer failed; the user waits again
	InactiveMessage        string `json:",omitempty"` // Salesforce marked the session inactive
	InactiveEndedMessage   string `json:",omitempty"` // Salesforce ended a session it had marked inactive
	IdleMessage            string `json:",omitempty"` // the chat ended after IdleTimeout
	// The texts below are shown while waiting and chatting; an empty one
	// means the built-in English text (texts.go). Placeholders in braces
	// are replaced: {position}, {minutes}, {agent}, {file}.
	QueuePositionMessage    string `json:",omitempty"` // the user's place in the queue: {position}
	WaitMessage             string `json:",omitempty"` // estimated wait of 2 minutes or more: {minutes}
	WaitOneMinuteMessage    string `json:",omitempty"` // estimated wait of about a minute
	WaitUnderAMinuteMessage string `json:",omitempty"` // estimated wait under a minute
	TransferMessage         string `json:",omitempty"` // the agent transfers the chat
	AgentJoinedMessage      string `json:",omitempty"` // another agent joined (transfer): {agent}
	UnnamedAgent            string `json:",omitempty"` // {agent} when the agent's name is unknown
	SendFailedMessage       string `json:",omitempty"` // a kept message could not be delivered
	FileTooLargeMessage     string `json:",omitempty"` // Salesforce refused a kept file as too large: {file}
	FileTypeRefusedMessage  string `json:",omitempty"` // Salesforce refused a kept file's type: {file}
	FileUploadFailedMessage string `json:",omitempty"` // Salesforce reported a sent file's upload failed later: {file}
	AttachmentFailedMessage string `json:",omitempty"` // an agent's file could not be downloaded: {file}
	// RoutingResultTimeout ends a session Salesforce says nothing about
	// (no routing result, queue position or accept) this long after the
	// conversation was created; 0 waits for the accept timeout alone.
	RoutingResultTimeout time.Duration `json:",omitempty"`
	// IdleTimeout ends an accepted chat after this long without a message
	// either way; 0 never does.
	IdleTimeout time.Duration `json:",omitempty"`
	// TransferTimeout is how long a transfer may go without a new agent
	// joining before the session is back in the queue (as after a failed
	// transfer); 0 = AcceptTimeout.
	TransferTimeout time.Duration `json:",omitempty"`
	// MessageRate paces the user's messages and files to Salesforce: at most
	// MessageRate.Count per MessageRate.Window are sent, later ones are kept
	// (never dropped or reordered) and answered UpdateQueued with
	// QueuedPaced until the window frees. Zero values do not pace (a 429's
	// Retry-After is honoured either way).
	MessageRate   MessageRate `json:",omitempty"`
	DefaultLocale string
	// RoutingUserField and RoutingTopicField are the routing attribute (hidden
	// pre-chat field) names agreed with the customer's Salesforce team.
	RoutingUserField  string
	RoutingTopicField string
	MaxMessageBytes   int // max UTF-8 bytes of one user message
	// MaxAttachmentBytes is the max bytes of one attachment, either direction.
	// Its JSON name is its former Go name: the workflow input in history of
	// sessions started before the rename carries that key.
	MaxAttachmentBytes int64 `json:"MaxAttachmentSize"`
	// AllowedAttachmentTypes are MIME types users may send; empty allows all.
	AllowedAttachmentTypes []string
	// ListenerHeartbeatTimeout is the SSE listener's heartbeat timeout
	// (0 = DefaultListenerHeartbeatTimeout). The listener heartbeats every
	// third of it, and a listener lost with its worker is restarted this long
	// after its last heartbeat: a longer timeout means fewer heartbeat writes
	// on the Temporal server per open session, a shorter one a faster resume
	// after a worker crash.
	ListenerHeartbeatTimeout time.Duration
	// TypingQuietTime is how long after the user's last typing report the
	// agent is told the user stopped typing (0 = DefaultTypingQuietTime).
	TypingQuietTime time.Duration `json:",omitempty"`
	// AgentTypingExpiry is how long an agent typing-started delivery holds
	// (its ExpiresAt) when no typing-stopped follows (0 =
	// DefaultAgentTypingExpiry).
	AgentTypingExpiry time.Duration `json:",omitempty"`
	// ListenerShards, when > 0, makes the session join listener shard
	// ShardOf(UserID, ListenerShards) instead of running its own listener
	// (see ShardWorkflow); the worker keeps that many shards running. A
	// session whose shard cannot be joined runs its own listener.
	ListenerShards int `json:",omitempty"`
	// SurveyWindow, when > 0, keeps a session an agent chatted in waiting
	// this long after it closed for the user's post-chat survey
	// (UpdateSurvey, survey.go); 0 completes at once.
	SurveyWindow time.Duration `json:",omitempty"`
}

// DefaultListenerHeartbeatTimeout is the listener's heartbeat timeout when
// Settings.ListenerHeartbeatTimeout is 0, and the bounds of its value.
const (
	DefaultListenerHeartbeatTimeout = 30 * time.Second
	MinListenerHeartbeatTimeout     = 15 * time.Second
	MaxListenerHeartbeatTimeout     = 10 * time.Minute
)

// SessionInput is the workflow argument. Carry is nil on a fresh start and
// holds the state handed over by continue-as-new.
type SessionInput struct {
	Request SessionRequest
	Carry   *Carry
	// ContinueAsNewAfterEvents is a testing hook: when > 0 a run continues as
	// new once it has handled this many agent events, as if the SDK had
	// suggested it. Production starts leave it 0 (continue-as-new then happens
	// only when Temporal suggests it). It is carried to the next run.
	ContinueAsNewAfterEvents int
}

// Carry is everything a continued run needs from its predecessor.
type Carry struct {
	State State
	// Phase is the session's phase by name (finer than State); runs that
	// carried none resume in the phase their State stood for.
	Phase          string `json:",omitempty"`
	ConversationID string
	StartedAt      time.Time
	WaitingSince   time.Time
	// AcceptedAt is when the first agent accepted (zero: none yet).
	AcceptedAt time.Time `json:",omitzero"`
	AgentName  string
	// TransferringSince is when the transfer in progress started (zero:
	// none); the new run's TransferTimeout counts from it.
	TransferringSince time.Time `json:",omitzero"`
	// TransferTimedOut is set while the session waits again because its
	// transfer found no agent within TransferTimeout.
	TransferTimedOut bool `json:",omitempty"`
	// Inactive is set while Salesforce has marked the session Inactive and
	// nobody wrote since.
	Inactive bool `json:",omitempty"`
	// LastEventID is the SSE cursor of the last event the workflow handled;
	// the new run's listener resumes from it.
	LastEventID string
	// SeenEntryIDs are Salesforce entry ids already handled (bounded, newest
	// last) so a resumed stream never shows the user an entry twice.
	SeenEntryIDs []string
	// SeenUserMessageIDs are assistant message ids already accepted (bounded).
	SeenUserMessageIDs []string
	// Pending are user messages accepted while waiting and not yet sent.
	Pending    []UserMessage
	Transcript []TranscriptEntry
}

// UserMessage is the argument of UpdateSendMessage. ID is the assistant's own
// message id: it is the idempotency key and becomes the MIAW message id.
type UserMessage struct {
	ID   string
	Text string
	// Choice, when set, answers an agent's Choices; Text may then be empty
	// (the option's title is used).
	Choice *ChoiceReply `json:",omitempty"`
}

// UserAttachment is the argument of UpdateSendAttachment. The bytes are in the
// attachment store under SHA256; history carries only this reference.
type UserAttachment struct {
	ID       string
	Name     string
	MimeType string
	Size     int64
	SHA256   string
	Caption  string
}

// UserClose is the argument of UpdateClose.
type UserClose struct {
	ID     string
	Reason string
}

// UpdateStatus is the outcome of a user update.
type UpdateStatus string

const (
	UpdateSent      UpdateStatus = "sent"      // delivered to Salesforce
	UpdateQueued    UpdateStatus = "queued"    // kept; sent in order once an agent accepts
	UpdateDuplicate UpdateStatus = "duplicate" // this id was already handled; nothing done
	UpdateClosed    UpdateStatus = "closed"    // the session is closed (UpdateClose)
)

// Why an update was answered UpdateQueued (UpdateResult.QueuedReason).
const (
	QueuedWaitingForAgent = "waiting-for-agent" // no agent has accepted yet (or the chat is moving to a new run)
	QueuedPaced           = "paced"             // Salesforce's message rate for the conversation is used up for now
)

// UpdateResult is returned by every user update.
type UpdateResult struct {
	Status  UpdateStatus
	EntryID string // Salesforce conversation entry id when known
	// QueuedReason says why a queued item waits (QueuedWaitingForAgent,
	// QueuedPaced); "" for other statuses and in legacy runs.
	QueuedReason string `json:",omitempty"`
}

// MessageRate is Settings.MessageRate: Count messages per Window.
type MessageRate struct {
	Count  int           `json:",omitempty"`
	Window time.Duration `json:",omitempty"`
}

func (r MessageRate) enabled() bool { return r.Count > 0 && r.Window > 0 }

// AgentEventKind classifies what the listener saw on the SSE stream.
type AgentEventKind string

const (
	AgentMessage          AgentEventKind = "message"             // text, link or attachments from the agent side
	AgentJoined           AgentEventKind = "agent-joined"        // participant add (role Agent)
	AgentLeft             AgentEventKind = "agent-left"          // participant remove (role Agent)
	AgentRoutingResult    AgentEventKind = "routing-result"      // RoutingResult (initial or transfer)
	AgentWorkResult       AgentEventKind = "work-result"         // RoutingWorkResult (Accepted, Transferred, ...)
	AgentQueuePosition    AgentEventKind = "queue-position"      // QueuePosition
	AgentSessionStatus    AgentEventKind = "session-status"      // SessionStatusChanged
	AgentTypingStarted    AgentEventKind = "typing-started"      // agent typing
	AgentTypingStopped    AgentEventKind = "typing-stopped"      // agent stopped typing
	AgentConversationShut AgentEventKind = "conversation-closed" // CloseConversation
	AgentReadAck          AgentEventKind = "read-ack"            // agent read a user message
	AgentDeliveryAck      AgentEventKind = "delivery-ack"        // agent client received a user message
	// AgentUploadFailed: Salesforce reported after accepting it that a user's
	// file upload failed (a MessageUpdated entry; FailedUploads says which).
	AgentUploadFailed AgentEventKind = "upload-failed"
	// AgentListenerFailed: the session's stream in its listener shard failed
	// for good (Text says why); the session fails as if its own listener had.
	AgentListenerFailed AgentEventKind = "listener-failed"
)

// AgentEvent is one Salesforce event for this session's conversation, already
// filtered (echoes of the user's own entries and pings are not signalled).
type AgentEvent struct {
	EventID string // SSE event id: the stream cursor
	EntryID string // Salesforce conversation entry id: the dedupe key
	Kind    AgentEventKind
	At      time.Time // Salesforce transcripted timestamp

	SenderName  string
	SenderRole  string
	Text        string
	Link        *Link
	Attachments []AgentAttachment

	QueuePosition int           // AgentQueuePosition
	EstimatedWait time.Duration // AgentRoutingResult; negative when unknown
	RoutingType   string        // Initial | Transfer | Conference
	FailureType   string        // None | Unknown | SubmissionError | RoutingError | Cancelled
	WorkType      string        // AgentWorkResult
	SessionStatus string        // AgentSessionStatus: Waiting | Active | Ended | ...
	AckedEntryID  string        // AgentReadAck / AgentDeliveryAck

	// Rich content of an AgentMessage (Text holds its fallback text).
	Choices *Choices `json:",omitempty"`
	Form    *Form    `json:",omitempty"`
	WebView *WebView `json:",omitempty"`
	// FailedUploads are the user's files of an AgentUploadFailed.
	FailedUploads []FailedUpload `json:",omitempty"`
	// Unsupported names the message or format type of an AgentMessage this
	// bridge cannot show (Text is then a notice saying so).
	Unsupported string `json:",omitempty"`
}

// Link is a rich link shared by the agent.
type Link struct {
	URL   string
	Title string
}

// AgentAttachment is a file the agent shared, as announced on the stream.
type AgentAttachment struct {
	ID       string
	Name     string
	MimeType string
	URL      string
}

// FailedUpload is one user file Salesforce reports as not uploaded after
// all. MessageID is the id the file's message was sent with (the user's
// message id, as Salesforce echoes it: case may differ).
type FailedUpload struct {
	MessageID string
	FileName  string
	ErrorType string // Salesforce's reason, e.g. AttachmentTooLarge
}

// AttachmentRef is a stored attachment as shown to the user: metadata and a
// link, never bytes.
type AttachmentRef struct {
	Name     string
	MimeType string
	Size     int64
	SHA256   string
	URL      string // where the user (assistant) fetches it
}

// Sender of a transcript entry.
type Sender string

const (
	FromUser   Sender = "user"
	FromAgent  Sender = "agent"
	FromSystem Sender = "system"
)

// TranscriptEntry is one line of the conversation as the user sees it.
type TranscriptEntry struct {
	ID         string // user message id or Salesforce entry id
	At         time.Time
	From       Sender
	SenderName string
	Text       string
	Link       *Link
	Attachment *AttachmentRef
	Choices    *Choices     `json:",omitempty"` // agent: the options offered
	Form       *Form        `json:",omitempty"` // agent: a form (answered in text)
	WebView    *WebView     `json:",omitempty"` // agent: a page to open
	Choice     *ChoiceReply `json:",omitempty"` // user: the option picked
}

// SessionView is the QueryState result.
type SessionView struct {
	State          State
	UserID         string
	Topic          string
	ConversationID string
	AgentName      string
	QueuePosition  int           // 0 when unknown
	EstimatedWait  time.Duration // negative when unknown
	StartedAt      time.Time
	WaitingSince   time.Time
	CloseReason    CloseReason
	Transcript     []TranscriptEntry
	// SurveyOpen is true while the closed session takes a survey
	// (UpdateSurvey); Survey is the one recorded, if any.
	SurveyOpen bool    `json:",omitempty"`
	Survey     *Survey `json:",omitempty"`
}

// SessionResult is the workflow result.
type SessionResult struct {
	ConversationID string
	CloseReason    CloseReason
	Messages       int // transcript entries
	// Summary is the closed delivery's summary (nil in sessions closed
	// before summaries existed).
	Summary *CloseSummary `json:",omitempty"`
	// Survey is the user's post-chat survey, when one was recorded in the
	// survey window (Settings.SurveyWindow).
	Survey *Survey `json:",omitempty"`
}

// ClosedBy says which side ended a session.
type ClosedBy string

const (
	ClosedByUser   ClosedBy = "user"   // the user (through the assistant) closed it
	ClosedByAgent  ClosedBy = "agent"  // the agent or Salesforce ended it
	ClosedBySystem ClosedBy = "system" // a timeout, routing, availability or a failure ended it
)

// CloseSummary tells the assistant, with the closed delivery, how the
// session went, so it can resume the conversation with context.
type CloseSummary struct {
	ClosedBy ClosedBy
	// AgentName is the last agent who chatted with the user; empty when no
	// agent accepted.
	AgentName string `json:",omitempty"`
	// WaitTime runs from the start of the session until the first accept
	// (or the close, when nobody accepted).
	WaitTime time.Duration
	// ChatTime runs from the first accept until the close; 0 without one.
	ChatTime      time.Duration
	UserMessages  int
	AgentMessages int
	// RunID is the run whose QueryState holds the final transcript (the
	// gateway serves it at GET /v1/sessions/{userId}?runId=<RunID>).
	RunID string
	// SurveyUntil is when the session's post-chat survey window ends
	// (UpdateSurvey on RunID until then); zero when it takes no survey.
	SurveyUntil time.Time `json:",omitzero"`
}

// StreamPositionInput is the argument of ActivityStreamPosition, which
// returns the user's current SSE stream position as a StreamPositionResult.
type StreamPositionInput struct {
	UserID string
}

// StreamPositionResult is the result of ActivityStreamPosition.
type StreamPositionResult struct {
	// LastEventID is the id of the user's latest SSE event (the access
	// token's lastEventId); empty when Salesforce gave none. A listener
	// started from it sees every later event.
	LastEventID string
}

// CreateConversationInput is the argument of ActivityCreateConversation,
// which returns a CreateConversationResult.
type CreateConversationInput struct {
	UserID            string
	ConversationID    string // lowercase UUID v4 made by the workflow
	RoutingAttributes map[string]string
	Language          string
}

// CreateConversationResult is the result of ActivityCreateConversation.
type CreateConversationResult struct {
	// LastEventID is the user's SSE stream position taken before the
	// conversation was created, so the first listener starts at a point that
	// includes the conversation's routing and accept events even if it
	// connects later with a newer token. Empty when Salesforce gave none.
	LastEventID string
}

// SendMessageInput is the argument of ActivitySendMessage. A 417 (the
// messaging session has ended) fails the activity without retry; no new
// messaging session is started for a chat whose agent is gone.
type SendMessageInput struct {
	UserID         string
	ConversationID string
	MessageID      string // MIAW message id (UUID) derived from the user's message id
	Text           string
	Language       string
	// Choice, when set, is sent as a MIAW ChoicesResponse instead of Text.
	Choice *ChoiceResponse `json:",omitempty"`
}

// SendResult is the result of ActivitySendMessage and ActivitySendAttachment.
type SendResult struct {
	EntryID string
}

// SendAttachmentInput is the argument of ActivitySendAttachment.
type SendAttachmentInput struct {
	UserID         string
	ConversationID string
	MessageID      string
	Attachment     UserAttachment
	Language       string
}

// EndConversationInput is the argument of ActivityEndConversation: end the
// messaging session and close the conversation. Already ended or closed is
// success.
type EndConversationInput struct {
	UserID         string
	ConversationID string
}

// ListenInput is the argument of ActivityListen. The activity streams SSE for
// UserID, signals SignalAgentEvent to WorkflowID for every event of
// ConversationID, heartbeats its cursor and resumes from it on retry (or from
// LastEventID on the first attempt). It returns only when cancelled.
type ListenInput struct {
	WorkflowID     string
	UserID         string
	ConversationID string
	LastEventID    string
}

// DownloadInput is the argument of ActivityDownloadAttachment.
type DownloadInput struct {
	UserID         string
	ConversationID string
	EntryID        string
	Attachment     AgentAttachment
	MaxSize        int64
}

// DeliveryKind says what a Delivery tells the user.
type DeliveryKind string

const (
	DeliverAgentMessage DeliveryKind = "agent-message" // text / link / attachment from the agent
	DeliverSystem       DeliveryKind = "system"        // greeting, queue status, timeout, transfer
	DeliverTyping       DeliveryKind = "typing"        // agent typing started/stopped
	DeliverReceipt      DeliveryKind = "receipt"       // the agent side received or read user messages
	DeliverClosed       DeliveryKind = "closed"        // the session ended
)

// Delivery is the argument of ActivityDeliver: one thing to show the user.
// ID is the idempotency key (Salesforce entry id, or a workflow-made id for
// system notices).
type Delivery struct {
	ID            string
	SessionID     string // workflow id
	UserID        string
	Kind          DeliveryKind
	At            time.Time
	SenderName    string
	Text          string
	Link          *Link
	Attachment    *AttachmentRef
	Choices       *Choices `json:",omitempty"` // agent-message: options to pick from (Text is the fallback)
	Form          *Form    `json:",omitempty"` // agent-message: a form (Text is the fallback)
	WebView       *WebView `json:",omitempty"` // agent-message: a page to open (Text is the fallback)
	State         State
	CloseReason   CloseReason
	Typing        bool
	QueuePosition int
	EstimatedWait time.Duration
	// Summary is set on the closed delivery.
	Summary *CloseSummary `json:",omitempty"`
	// ExpiresAt is set on a typing delivery with Typing true: the agent
	// counts as stopped typing from then on unless another typing delivery
	// says otherwise (Salesforce does not always send "stopped").
	ExpiresAt time.Time `json:",omitzero"`
	// Receipts are set on a receipt delivery: which of the user's messages
	// (by the assistant's own message ids) the agent side received or read.
	Receipts []Receipt `json:",omitempty"`
}
