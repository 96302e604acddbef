package starter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/locales"
	"github.com/liveagent-bridge/liveagent/workflows"
)

var (
	// ErrInvalid is wrapped by every validation error; the message says why.
	ErrInvalid = errors.New("invalid request")
	// ErrNoSession means the user has no session (never started, or it has
	// finished).
	ErrNoSession = errors.New("no live-agent session")
	// ErrRejected is wrapped when the session workflow refused an update (for
	// example a message after the session closed); the message says why.
	ErrRejected = errors.New("rejected by the session")
)

// Limits of identifiers the assistant supplies.
const (
	MaxUserIDLen    = 128
	MaxMessageIDLen = 128
	maxNameLen      = 255
	maxReasonLen    = 500
	maxListPages    = 100
)

// Client starts and drives live-agent sessions.
type Client struct {
	tc              client.Client
	settings        workflows.Settings
	store           *attachstore.Store
	availability    AvailabilityChecker // nil: always available
	handoffExcluded []string            // topics whose assistant context is dropped
	historyImport   bool                // WithHistoryImport
	typing          typingCoalescer     // presence.go
	locales         locales.Table       // per-locale texts (WithLocales)
}

// Option customises New.
type Option func(*Client)

// New returns a Client starting sessions with settings (usually
// cfg.SessionSettings(); an empty OfflineMessage becomes
// DefaultOfflineMessage). store holds user attachments and the handoff
// history; it may be nil when neither is used.
func New(c client.Client, settings workflows.Settings, store *attachstore.Store, opts ...Option) *Client {
	if settings.OfflineMessage == "" {
		settings.OfflineMessage = DefaultOfflineMessage
	}
	cl := &Client{tc: c, settings: settings, store: store}
	for _, o := range opts {
		o(cl)
	}
	return cl
}

// StartRequest asks for a live agent for a user.
type StartRequest struct {
	UserID      string
	Topic       string // one of the configured topics
	Description string // the user's problem, sent to the agent as the first message
	// Locale is the user's locale: a BCP 47 tag (fr-CA) or POSIX name
	// (fr_CA); empty means the configured default. It picks the texts the
	// user is shown (WithLocales) and goes to Salesforce as fr_CA.
	Locale string
	// Summary is the assistant's short summary of the conversation so far
	// (at most MaxSummaryBytes); the agent reads it under the description.
	Summary string
	// History is the assistant's conversation so far, oldest first; the
	// agent gets it as one transcript file, never message by message.
	History []HistoryEntry
}

// Session identifies the session a Start returned.
type Session struct {
	WorkflowID string
	RunID      string
	// Existing is true when the user already had a running session and Start
	// returned it instead of starting another.
	Existing bool
	// ContextWithheld is true when the request carried a summary or history
	// that the topic must not forward (WithHandoffExcludedTopics): the agent
	// got neither.
	ContextWithheld bool
}

// Start starts the user's live-agent session, or returns the running one
// (WorkflowIDConflictPolicy USE_EXISTING): one user has at most one session.
// A finished session's id may be reused (WorkflowIDReusePolicy
// ALLOW_DUPLICATE). A new session is started only while live agents are
// available (WithAvailability): otherwise Start returns an *OfflineError
// and starts nothing; the running session is returned whatever the hours.
// A closed (or closing) session that still runs, waiting for its post-chat
// survey, is never returned: Start ends its survey window (UpdateFinish),
// waits for it to complete and starts a new session.
func (c *Client) Start(ctx context.Context, req StartRequest) (*Session, error) {
	locale, err := c.validateStart(req)
	if err != nil {
		return nil, err
	}
	req.Locale = locale
	settings := c.settingsFor(locale)
	handoff, err := c.handoff(req)
	if err != nil {
		return nil, err
	}
	in := workflows.SessionInput{Request: workflows.SessionRequest{
		UserID:        req.UserID,
		Topic:         req.Topic,
		Description:   req.Description,
		Locale:        req.Locale,
		Summary:       handoff.summary,
		History:       handoff.file,
		HistoryImport: handoff.turns,
		Settings:      settings,
	}}
	// A closed session still waiting for its survey (session.survey_window)
	// keeps the workflow id running: it is finished first, and the start is
	// made again, so a new start never returns a closed session.
	withheld := handoff.withheld(req)
	for range maxLingerFinishes {
		s, lingering, err := c.startOnce(ctx, req, settings, in)
		if err != nil || !lingering {
			if s != nil && !s.Existing {
				s.ContextWithheld = withheld
			}
			return s, err
		}
	}
	return nil, fmt.Errorf("start session %s: the previous session kept running after being finished %d times",
		workflows.WorkflowID(req.UserID), maxLingerFinishes)
}

// maxLingerFinishes bounds how often one Start finishes a closed session's
// survey window before starting: more than once only when other starts
// for the same user race with it.
const maxLingerFinishes = 3

// startOnce starts the session or returns the running one; lingering
// reports that the running one was a closed session in its survey window,
// now finished (the caller starts again).
func (c *Client) startOnce(ctx context.Context, req StartRequest, settings workflows.Settings, in workflows.SessionInput) (_ *Session, lingering bool, _ error) {
	id := workflows.WorkflowID(req.UserID)
	// A running session found here is the one USE_EXISTING will return;
	// comparing run ids tells the caller whether it already existed.
	runningRunID, err := c.runningRunID(ctx, id)
	if err != nil {
		return nil, false, err
	}
	opts := client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                workflows.TaskQueue,
		WorkflowTaskTimeout:      workflows.WorkflowTaskTimeout,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SearchAttrState.ValueSet(string(workflows.StateRouting)),
			workflows.SearchAttrTopic.ValueSet(req.Topic),
			workflows.SearchAttrUser.ValueSet(req.UserID),
		),
		StaticSummary: fmt.Sprintf("Live chat %s → %s", req.UserID, req.Topic),
		StaticDetails: staticDetails(req, settings),
	}
	if runningRunID == "" {
		avail, err := c.check(ctx, req.Topic, settings)
		if err != nil {
			return nil, false, fmt.Errorf("start session %s: %w", id, err)
		}
		if !avail.Available {
			return nil, false, &OfflineError{Topic: req.Topic, Message: avail.OfflineMessage, NextOpen: avail.NextOpen}
		}
		in.Request.AvailableUntil = avail.AvailableUntil
	}
	run, err := c.tc.ExecuteWorkflow(ctx, opts, workflows.WorkflowName, in)
	if err != nil {
		return nil, false, fmt.Errorf("start session %s: %w", id, err)
	}
	existing := runningRunID != "" && runningRunID == run.GetRunID()
	if existing {
		finished, err := c.finishLinger(ctx, id, run.GetRunID())
		if err != nil {
			return nil, false, fmt.Errorf("start session %s: %w", id, err)
		}
		if finished {
			return nil, true, nil
		}
	}
	return &Session{WorkflowID: run.GetID(), RunID: run.GetRunID(), Existing: existing}, false, nil
}

func staticDetails(req StartRequest, s workflows.Settings) string {
	locale := req.Locale
	if locale == "" {
		locale = s.DefaultLocale
	}
	return fmt.Sprintf("**User:** %s  \n**Topic:** %s  \n**Locale:** %s  \n**Accept timeout:** %s",
		req.UserID, req.Topic, locale, s.AcceptTimeout)
}

// runningRunID returns the run id of the user's running session, or "".
func (c *Client) runningRunID(ctx context.Context, workflowID string) (string, error) {
	resp, err := c.tc.DescribeWorkflowExecution(ctx, workflowID, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("describe session %s: %w", workflowID, err)
	}
	info := resp.GetWorkflowExecutionInfo()
	if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return "", nil
	}
	return info.GetExecution().GetRunId(), nil
}

// SendMessage sends the user's text to the agent. messageID is the
// assistant's own id for the message: retrying with the same id never sends
// twice. While no agent has accepted yet the message is queued and sent once
// one does (Status UpdateQueued).
func (c *Client) SendMessage(ctx context.Context, userID, messageID, text string) (workflows.UpdateResult, error) {
	if err := validateUserID(userID); err != nil {
		return workflows.UpdateResult{}, err
	}
	if err := validateMessageID(messageID); err != nil {
		return workflows.UpdateResult{}, err
	}
	if err := c.validateText("text", text, true); err != nil {
		return workflows.UpdateResult{}, err
	}
	return c.update(ctx, userID, workflows.UpdateSendMessage, messageID, workflows.UserMessage{ID: messageID, Text: text})
}

// SendAttachment stores the file read from r (at most the configured
// attachment size) and sends a reference to it to the agent. messageID is
// the idempotency key, as for SendMessage. When the session does not take
// the file (no session, refused, failed) the stored copy is removed again,
// unless the same content was stored before.
func (c *Client) SendAttachment(ctx context.Context, userID, messageID, name, mimeType, caption string, r io.Reader) (workflows.UpdateResult, error) {
	if err := validateUserID(userID); err != nil {
		return workflows.UpdateResult{}, err
	}
	if err := validateMessageID(messageID); err != nil {
		return workflows.UpdateResult{}, err
	}
	if strings.TrimSpace(name) == "" || len(name) > maxNameLen {
		return workflows.UpdateResult{}, invalid("file name must be 1 to %d bytes", maxNameLen)
	}
	mediaType, _, err := mime.ParseMediaType(mimeType)
	if err != nil || !strings.Contains(mediaType, "/") {
		return workflows.UpdateResult{}, invalid("mime type %q is not a valid MIME type", mimeType)
	}
	if allowed := c.settings.AllowedAttachmentTypes; len(allowed) > 0 && !slices.Contains(allowed, mediaType) {
		return workflows.UpdateResult{}, invalid("mime type %s is not allowed (allowed: %s)", mediaType, strings.Join(allowed, ", "))
	}
	if err := c.validateText("caption", caption, false); err != nil {
		return workflows.UpdateResult{}, err
	}
	if c.store == nil {
		return workflows.UpdateResult{}, errors.New("send attachment: no attachment store configured")
	}
	if r == nil {
		return workflows.UpdateResult{}, invalid("file content is missing")
	}
	sum, size, created, err := c.store.PutNew(r, c.settings.MaxAttachmentBytes)
	if errors.Is(err, attachstore.ErrTooLarge) {
		return workflows.UpdateResult{}, invalid("file is larger than %d bytes", c.settings.MaxAttachmentBytes)
	}
	if err != nil {
		return workflows.UpdateResult{}, fmt.Errorf("store attachment: %w", err)
	}
	// The file is stored before the session has accepted it (the update
	// carries only its hash). Whatever refuses it — an empty file, no such
	// session, the workflow or Salesforce — takes it out again, unless it was
	// already stored (the same bytes sent before, or by someone else).
	refused := func(err error) (workflows.UpdateResult, error) {
		if created {
			if rmErr := c.store.Remove(sum); rmErr != nil {
				err = errors.Join(err, fmt.Errorf("remove refused attachment: %w", rmErr))
			}
		}
		return workflows.UpdateResult{}, err
	}
	if size == 0 {
		return refused(invalid("file is empty"))
	}
	att := workflows.UserAttachment{
		ID:       messageID,
		Name:     attachstore.SanitizeFilename(name),
		MimeType: mediaType,
		Size:     size,
		SHA256:   sum,
		Caption:  caption,
	}
	res, err := c.update(ctx, userID, workflows.UpdateSendAttachment, messageID, att)
	if errors.Is(err, ErrRejected) || errors.Is(err, ErrNoSession) || errors.Is(err, ErrInvalid) {
		return refused(err)
	}
	if err != nil {
		// The outcome is unknown (a timeout, a server unavailable): the
		// session may well have accepted the file and send it later, so it
		// stays stored; a retry with the same id finds the same answer.
		return workflows.UpdateResult{}, err
	}
	return res, nil
}

// Close ends the user's session from the user side. requestID is the
// idempotency key (a new one is made when empty).
func (c *Client) Close(ctx context.Context, userID, requestID, reason string) (workflows.UpdateResult, error) {
	if err := validateUserID(userID); err != nil {
		return workflows.UpdateResult{}, err
	}
	if requestID == "" {
		requestID = "close-" + uuid.NewString()
	}
	if err := validateMessageID(requestID); err != nil {
		return workflows.UpdateResult{}, err
	}
	if len(reason) > maxReasonLen || !utf8.ValidString(reason) {
		return workflows.UpdateResult{}, invalid("reason must be valid UTF-8 of at most %d bytes", maxReasonLen)
	}
	return c.update(ctx, userID, workflows.UpdateClose, requestID, workflows.UserClose{ID: requestID, Reason: reason})
}

// update runs a workflow update to completion. The update id is the
// assistant's id, so a retried call is deduplicated by Temporal (and, across
// continue-as-new, by the workflow itself).
func (c *Client) update(ctx context.Context, userID, name, updateID string, arg any) (workflows.UpdateResult, error) {
	return c.updateRun(ctx, userID, "", name, updateID, arg)
}

// updateRun is update of one run of the user's session ("" is the latest).
func (c *Client) updateRun(ctx context.Context, userID, runID, name, updateID string, arg any) (workflows.UpdateResult, error) {
	id := workflows.WorkflowID(userID)
	handle, err := c.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   id,
		RunID:        runID,
		UpdateName:   name,
		UpdateID:     updateID,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		var res workflows.UpdateResult
		if err = handle.Get(ctx, &res); err == nil {
			return res, nil
		}
	}
	return workflows.UpdateResult{}, c.updateError(name, id, err)
}

func (c *Client) updateError(name, workflowID string, err error) error {
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return fmt.Errorf("%s: %w for user session %s", name, ErrNoSession, workflowID)
	}
	if reason, errType, ok := rootCause(err); ok {
		return &RejectedError{Update: name, Reason: reason, Type: errType, Err: err}
	}
	return fmt.Errorf("%s on %s: %w", name, workflowID, err)
}

// RejectedError is returned when the session workflow refused or failed an
// update. It wraps ErrRejected and the full error.
type RejectedError struct {
	// Update is the update's name.
	Update string
	// Reason is the root cause's message (the innermost application
	// error): what the assistant may be shown. It never holds the activity
	// type, event ids or worker identity that the wrapping errors carry.
	Reason string
	// Type is the root cause's ApplicationError type, e.g. the activities'
	// "AttachmentTooLarge" (Salesforce's 413 for a file) or
	// "UnsupportedFileType" (its 415); "" when it has none.
	Type string
	// Err is the full error with every wrapping layer, for logs only.
	Err error
}

func (e *RejectedError) Error() string {
	return e.Update + ": " + ErrRejected.Error() + ": " + e.Reason
}

// Unwrap returns ErrRejected and the full error.
func (e *RejectedError) Unwrap() []error { return []error{ErrRejected, e.Err} }

// rootCause returns the message and type of the innermost ApplicationError
// in err's chain. An update handler that wraps an activity failure
// (fmt.Errorf("send: %w", err)) reaches the client as an ApplicationError
// whose message is the whole chain, "activity error (type: …,
// scheduledEventID: …, identity: pid@host@)" included; its cause chain ends
// with the activity's own ApplicationError, whose message is the reason.
func rootCause(err error) (msg, errType string, found bool) {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if appErr, ok := e.(*temporal.ApplicationError); ok {
			msg, errType, found = appErr.Message(), appErr.Type(), true
		}
	}
	return msg, errType, found
}

// State returns the current state and transcript of the user's latest
// session (running or finished).
func (c *Client) State(ctx context.Context, userID string) (*workflows.SessionView, error) {
	return c.StateOfRun(ctx, userID, "")
}

// StateOfRun is State of one run of the user's session: runID is the
// RunID of a closed delivery's summary, whose final state and transcript
// stay readable while Temporal retains the run; "" is the latest run. A run
// id that is not a UUID is ErrInvalid.
func (c *Client) StateOfRun(ctx context.Context, userID, runID string) (*workflows.SessionView, error) {
	if err := validateUserID(userID); err != nil {
		return nil, err
	}
	if runID != "" {
		if _, err := uuid.Parse(runID); err != nil {
			return nil, fmt.Errorf("%w: run id %q is not a UUID", ErrInvalid, runID)
		}
	}
	id := workflows.WorkflowID(userID)
	v, err := c.tc.QueryWorkflow(ctx, id, runID, workflows.QueryState)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil, fmt.Errorf("state: %w for user session %s", ErrNoSession, id)
	}
	if err != nil {
		return nil, fmt.Errorf("query state of %s: %w", id, err)
	}
	var view workflows.SessionView
	if err := v.Get(&view); err != nil {
		return nil, fmt.Errorf("decode state of %s: %w", id, err)
	}
	return &view, nil
}

// SessionSummary is one open session as listed by ListOpen, read from its
// search attributes.
type SessionSummary struct {
	WorkflowID     string
	RunID          string
	UserID         string
	Topic          string
	State          workflows.State
	ConversationID string
	StartTime      time.Time
}

// OpenSessionsQuery is the visibility query ListOpen runs: running
// sessions, except closed ones still waiting for their post-chat survey
// (session.survey_window), whose state search attribute is closed.
const OpenSessionsQuery = `WorkflowType = "` + workflows.WorkflowName + `" AND ExecutionStatus = "Running" AND ` +
	`LiveAgentState != "` + string(workflows.StateClosed) + `"`

// ListOpen lists the open sessions of the namespace (running and not
// closed), newest first.
func (c *Client) ListOpen(ctx context.Context) ([]SessionSummary, error) {
	var out []SessionSummary
	var token []byte
	for page := 0; page < maxListPages; page++ {
		resp, err := c.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query:         OpenSessionsQuery,
			NextPageToken: token,
		})
		if err != nil {
			return nil, fmt.Errorf("list open sessions: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			s := SessionSummary{
				WorkflowID: e.GetExecution().GetWorkflowId(),
				RunID:      e.GetExecution().GetRunId(),
				StartTime:  e.GetStartTime().AsTime(),
			}
			fields := e.GetSearchAttributes().GetIndexedFields()
			s.UserID = keyword(fields, workflows.SearchAttrUser.GetName())
			s.Topic = keyword(fields, workflows.SearchAttrTopic.GetName())
			s.State = workflows.State(keyword(fields, workflows.SearchAttrState.GetName()))
			s.ConversationID = keyword(fields, workflows.SearchAttrConversationID.GetName())
			out = append(out, s)
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			break
		}
	}
	slices.SortStableFunc(out, func(a, b SessionSummary) int { return b.StartTime.Compare(a.StartTime) })
	return out, nil
}

// keyword decodes a Keyword search attribute (search attributes are plain
// JSON payloads, never passed through a payload codec).
func keyword(fields map[string]*commonpb.Payload, name string) string {
	p, ok := fields[name]
	if !ok || p == nil {
		return ""
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
		return ""
	}
	return s
}
