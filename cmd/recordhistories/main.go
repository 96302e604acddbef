// Command recordhistories records the workflow histories that
// workflows/replay_test.go replays. It starts an in-memory Temporal server
// (the dev server process, internal/devtemporal), runs the real SessionWorkflow with
// the in-memory activities of internal/sessionfakes, drives one session per
// scenario and writes each history as JSON, exactly as `temporal workflow show --output json` would,
// into workflows/testdata/histories/<scenario>.json.
//
// Run it from the module root after an intentional, versioned workflow change:
//
//	go run ./cmd/recordhistories                 # every scenario
//	go run ./cmd/recordhistories -only refused   # some (comma-separated names)
//
// All data is synthetic: no Salesforce, no user, no secret is involved.
package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/temporalproto"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/liveagent-bridge/liveagent/internal/devtemporal"

	"github.com/liveagent-bridge/liveagent/internal/sessionfakes"
	"github.com/liveagent-bridge/liveagent/workflows"
)

func main() {
	out := flag.String("out", filepath.Join("workflows", "testdata", "histories"), "directory the histories are written to")
	only := flag.String("only", "", "comma-separated scenarios to record (default: all)")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var names []string
	if *only != "" {
		names = strings.Split(*only, ",")
	}
	if err := run(*out, names, logger); err != nil {
		logger.Error("record histories", "error", err)
		os.Exit(1)
	}
}

// scenario is one recorded session (or shard) story.
type scenario struct {
	name string
	fn   func(*driver, context.Context) error
}

// scenarios run on one dev server with its default settings.
var scenarios = []scenario{
	{"accepted", (*driver).accepted},
	{"accept-timeout", (*driver).acceptTimeout},
	{"user-close", (*driver).userClose},
	{"transfer", (*driver).transfer},
	{"continue-as-new", (*driver).continueAsNew},
	{"failure-paths", (*driver).failurePaths},
	{"no-routing-result", (*driver).noRoutingResult},
	{"refused", (*driver).refused},
	{"agents-offline", (*driver).agentsOffline},
	{"handoff", (*driver).handoff},
	{"rich-content", (*driver).richContent},
	{"sharded", (*driver).sharded},
	{"presence", (*driver).presence},
	{"late-upload-failure", (*driver).lateUploadFailure},
	{"paced", (*driver).paced},
	{"survey", (*driver).survey},
	{"history-import", (*driver).historyImport},
	{"history-import-fallback", (*driver).historyImportFallback},
	{"transfer-silent", (*driver).transferSilent},
	{"routing-failed-then-ended", (*driver).routingFailedThenEnded},
	{"inactive-ended", (*driver).inactiveEnded},
	{"failed", (*driver).failed},
	{"routing-check-answered", (*driver).routingCheckAnswered},
}

// shardCANAfterEvents is when the dev server of shardScenarios suggests
// continue-as-new: a shard continues after a few joins instead of 4,000
// events. The suggestion is recorded in the workflow task started event, so
// the histories replay without any setting.
const shardCANAfterEvents = 12

// shardScenarios run on a dev server of their own that suggests
// continue-as-new early (shardCANAfterEvents); a session would continue as
// new there too, so none runs beside them.
var shardScenarios = []scenario{
	{"shard-continue-as-new", (*driver).shardContinueAsNew},
}

func run(out string, only []string, logger *slog.Logger) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := record(ctx, out, pick(scenarios, only), nil, logger); err != nil {
		return err
	}
	return record(ctx, out, pick(shardScenarios, only), map[string]any{
		"limit.historyCount.suggestContinueAsNew": shardCANAfterEvents,
	}, logger)
}

// pick returns the scenarios named in only (all when only is empty).
func pick(all []scenario, only []string) []scenario {
	if len(only) == 0 {
		return all
	}
	var picked []scenario
	for _, sc := range all {
		if slices.Contains(only, sc.name) {
			picked = append(picked, sc)
		}
	}
	return picked
}

// record starts a dev server (with dynamic, if any) and the workers of the
// session and shard workflows with in-memory activities, and records each
// scenario in turn.
func record(ctx context.Context, out string, todo []scenario, dynamic map[string]any, logger *slog.Logger) error {
	if len(todo) == 0 {
		return nil
	}
	sdkLogger := tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ts, err := devtemporal.Start(ctx, devtemporal.Options{NoUI: true, LogLevel: "error", Log: os.Stderr, DynamicConfig: dynamic})
	if err != nil {
		return err
	}
	defer func() { _ = ts.Stop() }()
	c, err := client.Dial(client.Options{HostPort: ts.FrontendAddress(), Namespace: ts.Namespace(), Logger: sdkLogger})
	if err != nil {
		return fmt.Errorf("dial the dev server: %w", err)
	}
	defer c.Close()
	// Cancellation reaches the listener with a heartbeat response; do not
	// let throttling delay it by most of the heartbeat timeout.
	workerOpts := worker.Options{MaxHeartbeatThrottleInterval: 200 * time.Millisecond}
	var stops []func()
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	newWorker := func(taskQueue string, register func(worker.Registry)) error {
		w := worker.New(c, taskQueue, workerOpts)
		register(w)
		if err := w.Start(); err != nil {
			return fmt.Errorf("start worker on %s: %w", taskQueue, err)
		}
		stops = append(stops, w.Stop)
		return nil
	}
	if _, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace:        ts.Namespace(),
		SearchAttributes: workflows.SearchAttributes(),
	}); err != nil {
		return fmt.Errorf("register search attributes: %w", err)
	}

	fakes := &sessionfakes.Activities{Logger: logger}
	if err := newWorker(workflows.TaskQueue, func(r worker.Registry) {
		workflows.Register(r)
		workflows.RegisterActivities(r, fakes)
	}); err != nil {
		return err
	}
	if err := newWorker(workflows.ListenerTaskQueue, func(r worker.Registry) {
		workflows.RegisterListener(r, fakes)
	}); err != nil {
		return err
	}
	if err := newWorker(workflows.ListenerShardTaskQueue, func(r worker.Registry) {
		workflows.RegisterShard(r)
		workflows.RegisterShardListener(r, fakes)
	}); err != nil {
		return err
	}

	d := &driver{c: c, fakes: fakes, out: out, logger: logger}
	for _, sc := range todo {
		logger.Info("Recording scenario", "scenario", sc.name)
		if err := sc.fn(d, ctx); err != nil {
			return fmt.Errorf("scenario %s: %w", sc.name, err)
		}
	}
	return nil
}

type driver struct {
	c      client.Client
	fakes  *sessionfakes.Activities
	out    string
	logger *slog.Logger
	seq    int
}

func settings() workflows.Settings {
	return workflows.Settings{
		Topics:                 []string{"billing", "tech"},
		AcceptTimeout:          2 * time.Minute,
		TimeoutMessage:         "Sorry, no agent is available right now.",
		Greeting:               "An agent has joined the chat.",
		AgentEndedMessage:      "The agent has ended the chat.",
		DefaultLocale:          "en_US",
		RoutingUserField:       "LiveAgentUserId",
		RoutingTopicField:      "LiveAgentTopic",
		MaxMessageBytes:        4000,
		MaxAttachmentBytes:     5 << 20,
		AllowedAttachmentTypes: []string{"image/png", "application/pdf"},
	}
}

func (d *driver) start(ctx context.Context, user string, st workflows.Settings, canAfter int) (client.WorkflowRun, error) {
	return d.startRequest(ctx, workflows.SessionRequest{UserID: user, Settings: st}, canAfter)
}

// startRequest starts req (its topic and description filled in).
func (d *driver) startRequest(ctx context.Context, req workflows.SessionRequest, canAfter int) (client.WorkflowRun, error) {
	user := req.UserID
	req.Topic, req.Description = "billing", "My last invoice is charged twice."
	in := workflows.SessionInput{Request: req, ContinueAsNewAfterEvents: canAfter}
	return d.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.WorkflowID(user),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            "Live agent session for " + user + " (billing)",
	}, workflows.WorkflowName, in)
}

// emit scripts one agent event; the fake listener signals it.
func (d *driver) emit(user string, ev workflows.AgentEvent) {
	d.seq++
	if ev.EventID == "" {
		ev.EventID = strconv.Itoa(d.seq)
	}
	if ev.EntryID == "" {
		ev.EntryID = fmt.Sprintf("entry-%d", d.seq)
	}
	if ev.At.IsZero() {
		ev.At = time.Now().UTC()
	}
	d.fakes.Emit(workflows.WorkflowID(user), ev)
}

// acceptAndWait has Ann accept user's session and waits until it is active.
func (d *driver) acceptAndWait(ctx context.Context, user string) error {
	d.accept(user, "Ann")
	return d.waitFor(ctx, user, "active", inState(workflows.StateActive))
}

func (d *driver) accept(user, agent string) {
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentWorkResult, WorkType: "Accepted"})
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentJoined, SenderName: agent, SenderRole: "Agent"})
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentSessionStatus, SessionStatus: "Active"})
}

func (d *driver) update(ctx context.Context, user, name, id string, arg any) (workflows.UpdateResult, error) {
	h, err := d.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflows.WorkflowID(user),
		UpdateName:   name,
		UpdateID:     id,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return workflows.UpdateResult{}, fmt.Errorf("update %s %s: %w", name, id, err)
	}
	var res workflows.UpdateResult
	if err := h.Get(ctx, &res); err != nil {
		return res, fmt.Errorf("update %s %s result: %w", name, id, err)
	}
	return res, nil
}

// waitFor polls QueryState until cond holds.
func (d *driver) waitFor(ctx context.Context, user, what string, cond func(workflows.SessionView) bool) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		v, err := d.c.QueryWorkflow(ctx, workflows.WorkflowID(user), "", workflows.QueryState)
		if err == nil {
			var view workflows.SessionView
			if err := v.Get(&view); err != nil {
				return fmt.Errorf("decode state: %w", err)
			}
			if cond(view) {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("timed out waiting for %s", what)
}

func inState(st workflows.State) func(workflows.SessionView) bool {
	return func(v workflows.SessionView) bool { return v.State == st }
}

func agentLines(n int) func(workflows.SessionView) bool {
	return func(v workflows.SessionView) bool {
		count := 0
		for _, e := range v.Transcript {
			if e.From == workflows.FromAgent {
				count++
			}
		}
		return count >= n
	}
}

// finish waits for the session result and writes the history of runID.
func (d *driver) finish(ctx context.Context, user string, run client.WorkflowRun, scenario string, want workflows.CloseReason) error {
	var res workflows.SessionResult
	if err := d.c.GetWorkflow(ctx, workflows.WorkflowID(user), "").Get(ctx, &res); err != nil {
		return fmt.Errorf("session result: %w", err)
	}
	if res.CloseReason != want {
		return fmt.Errorf("close reason %q, want %q", res.CloseReason, want)
	}
	return d.export(ctx, user, run.GetRunID(), scenario)
}

func (d *driver) export(ctx context.Context, user, runID, name string) error {
	return d.exportWorkflow(ctx, workflows.WorkflowID(user), runID, name)
}

// exportWorkflow writes the history of workflowID's run runID (the latest
// when empty) so far as <name>.json.
func (d *driver) exportWorkflow(ctx context.Context, workflowID, runID, name string) error {
	iter := d.c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	hist := &historypb.History{}
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			return fmt.Errorf("read history: %w", err)
		}
		hist.Events = append(hist.Events, ev)
	}
	if len(hist.Events) == 0 {
		return errors.New("empty history")
	}
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(hist)
	if err != nil {
		return fmt.Errorf("marshal history: %w", err)
	}
	path := filepath.Join(d.out, name+".json")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	d.logger.Info("Wrote history", "path", path, "events", len(hist.Events))
	return nil
}

// accepted: queue notices, a message while waiting, accept, agent text, link
// and attachment, user message and attachment, typing, agent ends.
func (d *driver) accepted(ctx context.Context) error {
	const user = "replay-accepted"
	run, err := d.start(ctx, user, settings(), 0)
	if err != nil {
		return err
	}
	if err := d.waitFor(ctx, user, "waiting", inState(workflows.StateWaiting)); err != nil {
		return err
	}
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentRoutingResult, RoutingType: "Initial", FailureType: "None", EstimatedWait: 90 * time.Second})
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentQueuePosition, QueuePosition: 2})
	if _, err := d.update(ctx, user, workflows.UpdateSendMessage, "m-1", workflows.UserMessage{ID: "m-1", Text: "Are you there?"}); err != nil {
		return err
	}
	if err := d.acceptAndWait(ctx, user); err != nil {
		return err
	}
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentTypingStarted, SenderName: "Ann"})
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentMessage, SenderName: "Ann", SenderRole: "Agent", Text: "Hi, I am looking at your invoice."})
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentMessage, SenderName: "Ann", SenderRole: "Agent",
		Link: &workflows.Link{URL: "https://help.example.com/billing", Title: "Billing help"}})
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentMessage, SenderName: "Ann", SenderRole: "Agent", Text: "Here is the corrected one.",
		Attachments: []workflows.AgentAttachment{{ID: "att-1", Name: "invoice.pdf", MimeType: "application/pdf", URL: "https://example.invalid/att-1"}}})
	if err := d.waitFor(ctx, user, "agent messages", agentLines(4)); err != nil {
		return err
	}
	if _, err := d.update(ctx, user, workflows.UpdateSendMessage, "m-2", workflows.UserMessage{ID: "m-2", Text: "Thank you!"}); err != nil {
		return err
	}
	if _, err := d.update(ctx, user, workflows.UpdateSendAttachment, "a-1", workflows.UserAttachment{
		ID: "a-1", Name: "receipt.png", MimeType: "image/png", Size: 4,
		SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Caption: "my receipt",
	}); err != nil {
		return err
	}
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentLeft, SenderName: "Ann"})
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentSessionStatus, SessionStatus: "Ended"})
	return d.finish(ctx, user, run, "accepted", workflows.CloseAgentEnded)
}

func (d *driver) acceptTimeout(ctx context.Context) error {
	const user = "replay-timeout"
	st := settings()
	st.AcceptTimeout = 3 * time.Second
	run, err := d.start(ctx, user, st, 0)
	if err != nil {
		return err
	}
	if err := d.waitFor(ctx, user, "waiting", inState(workflows.StateWaiting)); err != nil {
		return err
	}
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentQueuePosition, QueuePosition: 4})
	return d.finish(ctx, user, run, "accept-timeout", workflows.CloseAcceptTimeout)
}

func (d *driver) userClose(ctx context.Context) error {
	const user = "replay-user-close"
	run, err := d.start(ctx, user, settings(), 0)
	if err != nil {
		return err
	}
	if err := d.acceptAndWait(ctx, user); err != nil {
		return err
	}
	if _, err := d.update(ctx, user, workflows.UpdateSendMessage, "m-1", workflows.UserMessage{ID: "m-1", Text: "Never mind, solved."}); err != nil {
		return err
	}
	// A retried update with the same message id is a duplicate.
	if _, err := d.update(ctx, user, workflows.UpdateSendMessage, "m-1-retry", workflows.UserMessage{ID: "m-1", Text: "Never mind, solved."}); err != nil {
		return err
	}
	if _, err := d.update(ctx, user, workflows.UpdateClose, "close-1", workflows.UserClose{ID: "close-1", Reason: "solved"}); err != nil {
		return err
	}
	return d.finish(ctx, user, run, "user-close", workflows.CloseUserClosed)
}

// survey: an agent chats, the user closes, the closed session waits in its
// survey window, takes a rating with a comment and completes.
func (d *driver) survey(ctx context.Context) error {
	const user = "replay-survey"
	st := settings()
	st.SurveyWindow = 10 * time.Minute
	run, err := d.start(ctx, user, st, 0)
	if err != nil {
		return err
	}
	if err := d.acceptAndWait(ctx, user); err != nil {
		return err
	}
	if _, err := d.update(ctx, user, workflows.UpdateClose, "close-1", workflows.UserClose{ID: "close-1", Reason: "solved"}); err != nil {
		return err
	}
	if err := d.waitFor(ctx, user, "survey window", func(v workflows.SessionView) bool { return v.SurveyOpen }); err != nil {
		return err
	}
	if _, err := d.update(ctx, user, workflows.UpdateSurvey, "survey-1", workflows.Survey{Rating: 5, Comment: "Quick & kind."}); err != nil {
		return err
	}
	return d.finish(ctx, user, run, "survey", workflows.CloseUserClosed)
}

// richContent: the agent offers quick replies and a web view, the user
// picks an option (sent as a choices response), then closes.
func (d *driver) richContent(ctx context.Context) error {
	const user = "replay-rich-content"
	run, err := d.start(ctx, user, settings(), 0)
	if err != nil {
		return err
	}
	if err := d.acceptAndWait(ctx, user); err != nil {
		return err
	}
	d.emit(user, workflows.AgentEvent{EntryID: "entry-choices", Kind: workflows.AgentMessage, SenderName: "Ann", SenderRole: "Agent",
		Text: "Which team? Options: 1) Billing 2) Payroll",
		Choices: &workflows.Choices{Kind: workflows.ChoiceQuickReplies, MessageID: "miaw-choices", Prompt: "Which team?",
			Options: []workflows.ChoiceOption{{ID: "opt-billing", Title: "Billing"}, {ID: "opt-payroll", Title: "Payroll"}}}})
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentMessage, SenderName: "Ann", SenderRole: "Agent",
		Text: "Invoice: https://billing.example.com/invoice", WebView: &workflows.WebView{URL: "https://billing.example.com/invoice", Title: "Invoice"}})
	offered := func(v workflows.SessionView) bool {
		for _, e := range v.Transcript {
			if e.ID == "entry-choices" {
				return true
			}
		}
		return false
	}
	if err := d.waitFor(ctx, user, "choice offered", offered); err != nil {
		return err
	}
	if _, err := d.update(ctx, user, workflows.UpdateSendMessage, "m-1", workflows.UserMessage{ID: "m-1",
		Choice: &workflows.ChoiceReply{InReplyTo: "entry-choices", OptionID: "opt-payroll"}}); err != nil {
		return err
	}
	if _, err := d.update(ctx, user, workflows.UpdateClose, "close-1", workflows.UserClose{ID: "close-1", Reason: "solved"}); err != nil {
		return err
	}
	return d.finish(ctx, user, run, "rich-content", workflows.CloseUserClosed)
}

// paced: with a message rate of 2 per 2 s the user sends three messages
// back to back; the third is answered queued (paced) and sent when the
// window frees; then the user closes.
func (d *driver) paced(ctx context.Context) error {
	const user = "replay-paced"
	st := settings()
	st.MessageRate = workflows.MessageRate{Count: 2, Window: 2 * time.Second}
	run, err := d.start(ctx, user, st, 0)
	if err != nil {
		return err
	}
	if err := d.acceptAndWait(ctx, user); err != nil {
		return err
	}
	for i := 1; i <= 3; i++ {
		id := fmt.Sprintf("m-%d", i)
		res, err := d.update(ctx, user, workflows.UpdateSendMessage, id, workflows.UserMessage{ID: id, Text: fmt.Sprintf("question %d", i)})
		if err != nil {
			return err
		}
		if i == 3 && res.QueuedReason != workflows.QueuedPaced {
			return fmt.Errorf("third message answered %+v, want queued (paced)", res)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for !slices.Contains(d.fakes.SentTexts(), "question 3") {
		if time.Now().After(deadline) {
			return errors.New("the paced message was not sent")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := d.update(ctx, user, workflows.UpdateClose, "close-1", workflows.UserClose{ID: "close-1", Reason: "done"}); err != nil {
		return err
	}
	return d.finish(ctx, user, run, "paced", workflows.CloseUserClosed)
}

// lateUploadFailure: the user sends a file, Salesforce reports later that
// its upload failed (a MessageUpdated), the user is told by name, then
// closes.
func (d *driver) lateUploadFailure(ctx context.Context) error {
	const user = "replay-late-upload-failure"
	run, err := d.start(ctx, user, settings(), 0)
	if err != nil {
		return err
	}
	if err := d.acceptAndWait(ctx, user); err != nil {
		return err
	}
	if _, err := d.update(ctx, user, workflows.UpdateSendAttachment, "file-1", workflows.UserAttachment{ID: "file-1", Name: "report.pdf",
		MimeType: "application/pdf", Size: 4, SHA256: strings.Repeat("ab", 32)}); err != nil {
		return err
	}
	d.emit(user, workflows.AgentEvent{EntryID: "entry-upload-failed", Kind: workflows.AgentUploadFailed, SenderRole: "EndUser",
		FailedUploads: []workflows.FailedUpload{{MessageID: "miaw-file-1", FileName: "report.pdf", ErrorType: "StorageLimitExceeded"}}})
	told := func(v workflows.SessionView) bool {
		for _, e := range v.Transcript {
			if e.From == workflows.FromSystem && strings.Contains(e.Text, `"report.pdf"`) {
				return true
			}
		}
		return false
	}
	if err := d.waitFor(ctx, user, "the failure told", told); err != nil {
		return err
	}
	if _, err := d.update(ctx, user, workflows.UpdateClose, "close-1", workflows.UserClose{ID: "close-1", Reason: "done"}); err != nil {
		return err
	}
	return d.finish(ctx, user, run, "late-upload-failure", workflows.CloseUserClosed)
}

func (d *driver) transfer(ctx context.Context) error {
	const user = "replay-transfer"
	run, err := d.start(ctx, user, settings(), 0)
	if err != nil {
		return err
	}
	d.accept(user, "Ann")
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentMessage, SenderName: "Ann", Text: "Let me transfer you to billing."})
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentLeft, SenderName: "Ann"})
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentRoutingResult, RoutingType: "Transfer", FailureType: "None"})
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentJoined, SenderName: "Bob", SenderRole: "Agent"})
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentMessage, SenderName: "Bob", Text: "Bob from billing here."})
	if err := d.waitFor(ctx, user, "Bob's message", agentLines(2)); err != nil {
		return err
	}
	if _, err := d.update(ctx, user, workflows.UpdateClose, "close-1", workflows.UserClose{ID: "close-1"}); err != nil {
		return err
	}
	return d.finish(ctx, user, run, "transfer", workflows.CloseUserClosed)
}

// continueAsNew forces a new run after 4 agent events (test hook) and records
// both runs.
func (d *driver) continueAsNew(ctx context.Context) error {
	const user = "replay-continue-as-new"
	first, err := d.start(ctx, user, settings(), 4)
	if err != nil {
		return err
	}
	if _, err := d.update(ctx, user, workflows.UpdateSendMessage, "m-1", workflows.UserMessage{ID: "m-1", Text: "Hello?"}); err != nil {
		return err
	}
	d.accept(user, "Ann")
	d.emit(user, workflows.AgentEvent{EntryID: "agent-msg-1", Kind: workflows.AgentMessage, SenderName: "Ann", Text: "Hello from the first run."})
	desc, err := d.describeUntil(ctx, workflows.WorkflowID(user), "to continue as new", runOtherThan(first.GetRunID()))
	if err != nil {
		return err
	}
	second := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	// A duplicate of an entry handled by the first run is dropped by the second.
	d.emit(user, workflows.AgentEvent{EntryID: "agent-msg-1", Kind: workflows.AgentMessage, SenderName: "Ann", Text: "Hello from the first run."})
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentMessage, SenderName: "Ann", Text: "Hello from the second run."})
	if _, err := d.update(ctx, user, workflows.UpdateSendMessage, "m-2", workflows.UserMessage{ID: "m-2", Text: "Still here."}); err != nil {
		return err
	}
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentConversationShut})
	var res workflows.SessionResult
	if err := d.c.GetWorkflow(ctx, workflows.WorkflowID(user), second).Get(ctx, &res); err != nil {
		return fmt.Errorf("continued run result: %w", err)
	}
	if res.CloseReason != workflows.CloseAgentEnded {
		return fmt.Errorf("close reason %q, want %q", res.CloseReason, workflows.CloseAgentEnded)
	}
	if err := d.export(ctx, user, first.GetRunID(), "continue-as-new-run1"); err != nil {
		return err
	}
	return d.export(ctx, user, second, "continue-as-new-run2")
}

// failurePaths: no greeting (empty), the session goes inactive, a transfer
// fails and the user is requeued (writing meanwhile), another agent
// accepts, and the chat ends idle.
func (d *driver) failurePaths(ctx context.Context) error {
	const user = "replay-failure-paths"
	st := settings()
	st.Greeting = ""
	st.IdleTimeout = 10 * time.Second
	run, err := d.start(ctx, user, st, 0)
	if err != nil {
		return err
	}
	if err := d.acceptAndWait(ctx, user); err != nil {
		return err
	}
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentSessionStatus, SessionStatus: "Inactive"})
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentLeft, SenderName: "Ann"})
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentRoutingResult, RoutingType: "Initial", FailureType: "RoutingError"})
	if err := d.waitFor(ctx, user, "requeued", inState(workflows.StateWaiting)); err != nil {
		return err
	}
	if _, err := d.update(ctx, user, workflows.UpdateSendMessage, "m-1", workflows.UserMessage{ID: "m-1", Text: "Hello? Anyone?"}); err != nil {
		return err
	}
	d.accept(user, "Bob")
	if err := d.waitFor(ctx, user, "active again", inState(workflows.StateActive)); err != nil {
		return err
	}
	return d.finish(ctx, user, run, "failure-paths", workflows.CloseIdle)
}

// noRoutingResult: Salesforce says nothing after the create.
func (d *driver) noRoutingResult(ctx context.Context) error {
	const user = "replay-no-routing-result"
	st := settings()
	st.RoutingResultTimeout = 2 * time.Second
	run, err := d.start(ctx, user, st, 0)
	if err != nil {
		return err
	}
	return d.finish(ctx, user, run, "no-routing-result", workflows.CloseNoRoutingResult)
}

// refused: Salesforce refuses the create for good.
func (d *driver) refused(ctx context.Context) error {
	const user = "replay-refused"
	d.fakes.CreateErr = temporal.NewNonRetryableApplicationError("400 invalid routing attribute", workflows.ErrTypeSalesforcePermanent, nil)
	defer func() { d.fakes.CreateErr = nil }()
	run, err := d.start(ctx, user, settings(), 0)
	if err != nil {
		return err
	}
	return d.finish(ctx, user, run, "refused", workflows.CloseRefused)
}

// agentsOffline: business hours end while the user waits.
func (d *driver) agentsOffline(ctx context.Context) error {
	const user = "replay-agents-offline"
	run, err := d.startRequest(ctx, workflows.SessionRequest{
		UserID: user, Settings: settings(), AvailableUntil: time.Now().Add(2 * time.Second),
	}, 0)
	if err != nil {
		return err
	}
	return d.finish(ctx, user, run, "agents-offline", workflows.CloseAgentsOffline)
}

// handoff: the assistant's summary and conversation reach the agent; the
// session closes as the summary shows (agent and user).
func (d *driver) handoff(ctx context.Context) error {
	const user = "replay-handoff"
	run, err := d.startRequest(ctx, workflows.SessionRequest{
		UserID: user, Settings: settings(), Summary: "Charged twice for November; the bot could not refund.",
		History: &workflows.UserAttachment{Name: "conversation-with-assistant.txt", MimeType: "text/plain", Size: 4,
			SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
	}, 0)
	if err != nil {
		return err
	}
	if err := d.acceptAndWait(ctx, user); err != nil {
		return err
	}
	if _, err := d.update(ctx, user, workflows.UpdateClose, "close-1", workflows.UserClose{ID: "close-1"}); err != nil {
		return err
	}
	return d.finish(ctx, user, run, "handoff", workflows.CloseUserClosed)
}

// historyImport: the assistant's conversation is loaded into the agent's
// console with the Conversation History API; no file is attached.
func (d *driver) historyImport(ctx context.Context) error {
	return d.handoffWithImport(ctx, "replay-history-import", "history-import")
}

// historyImportFallback: Salesforce refuses the import (403 10057) and the
// transcript file is attached instead.
func (d *driver) historyImportFallback(ctx context.Context) error {
	d.fakes.ImportErr = temporal.NewNonRetryableApplicationError(
		"import history: 403 (10057) no access to the ConversationHistory API", workflows.ErrTypeSalesforcePermanent, nil)
	defer func() { d.fakes.ImportErr = nil }()
	return d.handoffWithImport(ctx, "replay-history-import-fallback", "history-import-fallback")
}

func (d *driver) handoffWithImport(ctx context.Context, user, scenario string) error {
	run, err := d.startRequest(ctx, workflows.SessionRequest{
		UserID: user, Settings: settings(), Summary: "Charged twice for November; the bot could not refund.",
		History: &workflows.UserAttachment{Name: "conversation-with-assistant.txt", MimeType: "text/plain", Size: 4,
			SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		HistoryImport: &workflows.UserAttachment{Name: "conversation-with-assistant.json", MimeType: "application/json", Size: 4,
			SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
	}, 0)
	if err != nil {
		return err
	}
	if err := d.acceptAndWait(ctx, user); err != nil {
		return err
	}
	if _, err := d.update(ctx, user, workflows.UpdateClose, "close-1", workflows.UserClose{ID: "close-1"}); err != nil {
		return err
	}
	return d.finish(ctx, user, run, scenario, workflows.CloseUserClosed)
}

// sharded: a session with listener shards joins its shard (started here as
// a worker would), gets its events from it, and leaves it when the user
// closes. The shard's history so far (join, listener, leave) is recorded
// too, as sharded-shard.
func (d *driver) sharded(ctx context.Context) error {
	const user, shards = "replay-sharded", 2
	k := workflows.ShardOf(user, shards)
	if _, err := d.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.ShardWorkflowID(k),
		TaskQueue:                workflows.ListenerShardTaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.ShardWorkflowName, workflows.ShardInput{Shard: k}); err != nil {
		return fmt.Errorf("start shard %d: %w", k, err)
	}
	st := settings()
	st.ListenerShards = shards
	run, err := d.start(ctx, user, st, 0)
	if err != nil {
		return err
	}
	if err := d.waitFor(ctx, user, "waiting", inState(workflows.StateWaiting)); err != nil {
		return err
	}
	if err := d.acceptAndWait(ctx, user); err != nil {
		return err
	}
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentMessage, SenderName: "Ann", SenderRole: "Agent", Text: "Hello from the shard."})
	if err := d.waitFor(ctx, user, "agent message", agentLines(1)); err != nil {
		return err
	}
	if _, err := d.update(ctx, user, workflows.UpdateClose, "c-1", workflows.UserClose{ID: "c-1"}); err != nil {
		return err
	}
	if err := d.finish(ctx, user, run, "sharded", workflows.CloseUserClosed); err != nil {
		return err
	}
	return d.exportWorkflow(ctx, workflows.ShardWorkflowID(k), "", "sharded-shard")
}

// presence: the user types (started; stopped by the message), the agent's
// delivery and read receipts of the message, the user reads the agent's
// answer, types again and goes quiet (stopped after the quiet time).
func (d *driver) presence(ctx context.Context) error {
	const user = "replay-presence"
	st := settings()
	st.TypingQuietTime = time.Second
	run, err := d.start(ctx, user, st, 0)
	if err != nil {
		return err
	}
	if err := d.acceptAndWait(ctx, user); err != nil {
		return err
	}
	typing := func(id string) error {
		h, err := d.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: workflows.WorkflowID(user), UpdateName: workflows.UpdateTyping, UpdateID: id,
			Args: []any{workflows.UserTyping{Typing: true}}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err != nil {
			return fmt.Errorf("update typing %s: %w", id, err)
		}
		return h.Get(ctx, nil)
	}
	if err := typing("typing-1"); err != nil {
		return err
	}
	sent, err := d.update(ctx, user, workflows.UpdateSendMessage, "m-1", workflows.UserMessage{ID: "m-1", Text: "Is the refund on its way?"})
	if err != nil {
		return err
	}
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentDeliveryAck, SenderName: "Ann", SenderRole: "Agent", AckedEntryID: sent.EntryID})
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentReadAck, SenderName: "Ann", SenderRole: "Agent", AckedEntryID: sent.EntryID})
	d.emit(user, workflows.AgentEvent{EntryID: "agent-answer-1", Kind: workflows.AgentMessage, SenderName: "Ann", SenderRole: "Agent", Text: "Yes, within 3 days."})
	if err := d.waitFor(ctx, user, "the answer", agentLines(1)); err != nil {
		return err
	}
	h, err := d.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.WorkflowID(user), UpdateName: workflows.UpdateReceipts, UpdateID: "receipts-1",
		Args:         []any{workflows.UserReceipts{Status: workflows.ReceiptRead, MessageIDs: []string{"agent-answer-1"}}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return fmt.Errorf("update receipts: %w", err)
	}
	if err := h.Get(ctx, &workflows.ReceiptsResult{}); err != nil {
		return fmt.Errorf("update receipts result: %w", err)
	}
	if err := typing("typing-2"); err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for len(d.fakes.Typing()) < 4 || len(d.fakes.Acknowledged()) < 1 || len(d.fakes.Deliveries(workflows.DeliverReceipt)) < 1 {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for typing %v, acknowledgements and receipts", d.fakes.Typing())
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentSessionStatus, SessionStatus: "Ended"})
	if err := d.finish(ctx, user, run, "presence", workflows.CloseAgentEnded); err != nil {
		return err
	}
	return d.requireMarker("presence", "listener-presence")
}

// event fills in ev's ids and time as emit does, for an event emitted later
// from another goroutine.
func (d *driver) event(ev workflows.AgentEvent) workflows.AgentEvent {
	d.seq++
	ev.EventID, ev.EntryID, ev.At = strconv.Itoa(d.seq), fmt.Sprintf("entry-%d", d.seq), time.Now().UTC()
	return ev
}

// systemLines holds once the transcript has n system notices.
func systemLines(n int) func(workflows.SessionView) bool {
	return func(v workflows.SessionView) bool {
		count := 0
		for _, e := range v.Transcript {
			if e.From == workflows.FromSystem {
				count++
			}
		}
		return count >= n
	}
}

// requireMarker checks that the history recorded as name asked changeID,
// i.e. that the scenario reached the versioned branch.
func (d *driver) requireMarker(name, changeID string) error {
	b, err := os.ReadFile(filepath.Join(d.out, name+".json"))
	if err != nil {
		return err
	}
	// A marker's change id is a JSON string payload, base64-encoded.
	if !strings.Contains(string(b), base64.StdEncoding.EncodeToString([]byte(`"`+changeID+`"`))) {
		return fmt.Errorf("%s: no %s marker: the scenario missed its branch", name, changeID)
	}
	return nil
}

// transferSilent: Ann leaves with a transfer routed and Salesforce says
// nothing more; after the transfer timeout the user is back in the queue
// (told so, as after a failed transfer) and, nobody accepting, the accept
// timeout ends the session.
func (d *driver) transferSilent(ctx context.Context) error {
	const user = "replay-transfer-silent"
	st := settings()
	st.TransferTimeout = 2 * time.Second
	st.AcceptTimeout = 5 * time.Second
	run, err := d.start(ctx, user, st, 0)
	if err != nil {
		return err
	}
	if err := d.acceptAndWait(ctx, user); err != nil {
		return err
	}
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentLeft, SenderName: "Ann"})
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentRoutingResult, RoutingType: "Transfer", FailureType: "None"})
	if err := d.waitFor(ctx, user, "requeued", inState(workflows.StateWaiting)); err != nil {
		return err
	}
	if err := d.finish(ctx, user, run, "transfer-silent", workflows.CloseAcceptTimeout); err != nil {
		return err
	}
	return d.requireMarker("transfer-silent", "transfer-timeout")
}

// routingFailedThenEnded: the queue times out as the emulator's
// TimeoutQueue has it: Salesforce reports a routing failure and ends the
// session. Both are signalled while the workflow task that delivers the
// queue position runs, so the next task handles them together; the session
// closes as routing-failed.
func (d *driver) routingFailedThenEnded(ctx context.Context) error {
	const user = "replay-routing-failed-then-ended"
	failure := d.event(workflows.AgentEvent{Kind: workflows.AgentRoutingResult, RoutingType: "Initial", FailureType: "RoutingError"})
	ended := d.event(workflows.AgentEvent{Kind: workflows.AgentSessionStatus, SessionStatus: "Ended"})
	var once sync.Once
	d.fakes.DeliverErr = func(_ context.Context, del workflows.Delivery) error {
		if del.UserID == user && del.QueuePosition == 3 {
			once.Do(func() {
				d.fakes.Emit(workflows.WorkflowID(user), failure)
				d.fakes.Emit(workflows.WorkflowID(user), ended)
				time.Sleep(time.Second) // the listener signals both meanwhile
			})
		}
		return nil
	}
	defer func() { d.fakes.DeliverErr = nil }()
	run, err := d.start(ctx, user, settings(), 0)
	if err != nil {
		return err
	}
	if err := d.waitFor(ctx, user, "waiting", inState(workflows.StateWaiting)); err != nil {
		return err
	}
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentQueuePosition, QueuePosition: 3})
	if err := d.finish(ctx, user, run, "routing-failed-then-ended", workflows.CloseRoutingFailed); err != nil {
		return err
	}
	return d.requireMarker("routing-failed-then-ended", "routing-failed-ends-session")
}

// inactiveEnded: Salesforce marks the active session Inactive (the user is
// told), nobody writes, and Salesforce ends it (the agent leaves, the
// session ends); it closes as idle with the inactive-ended notice.
func (d *driver) inactiveEnded(ctx context.Context) error {
	const user = "replay-inactive-ended"
	run, err := d.start(ctx, user, settings(), 0)
	if err != nil {
		return err
	}
	if err := d.acceptAndWait(ctx, user); err != nil {
		return err
	}
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentSessionStatus, SessionStatus: "Inactive"})
	if err := d.waitFor(ctx, user, "the inactive notice", systemLines(2)); err != nil {
		return err
	}
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentLeft, SenderName: "Ann"})
	d.emit(user, workflows.AgentEvent{Kind: workflows.AgentSessionStatus, SessionStatus: "Ended"})
	return d.finish(ctx, user, run, "inactive-ended", workflows.CloseIdle)
}

// failed: sending the description fails twice with a transient error and
// then for good (a 400); the session closes as failed with its notice,
// Salesforce's side is ended, and the workflow fails.
func (d *driver) failed(ctx context.Context) error {
	const user = "replay-failed"
	var attempts atomic.Int32
	d.fakes.SendErr = func(in workflows.SendMessageInput) error {
		if in.UserID != user {
			return nil
		}
		if attempts.Add(1) <= 2 {
			return temporal.NewApplicationError("send message: 503 Service Unavailable", "SalesforceTransient")
		}
		return temporal.NewNonRetryableApplicationError("send message: 400 Bad Request", workflows.ErrTypeSalesforcePermanent, nil)
	}
	defer func() { d.fakes.SendErr = nil }()
	run, err := d.start(ctx, user, settings(), 0)
	if err != nil {
		return err
	}
	if err := run.Get(ctx, nil); err == nil {
		return errors.New("the session succeeded, want it failed")
	}
	if n := attempts.Load(); n != 3 {
		return fmt.Errorf("description sent %d times, want 3", n)
	}
	var closed *workflows.Delivery
	for _, del := range d.fakes.Deliveries(workflows.DeliverClosed) {
		if del.UserID == user {
			closed = &del
		}
	}
	if closed == nil || closed.CloseReason != workflows.CloseFailed {
		return fmt.Errorf("closed delivery %+v, want one closed as %s", closed, workflows.CloseFailed)
	}
	return d.export(ctx, user, run.GetRunID(), "failed")
}

// routingCheckAnswered: the listener hears nothing within the routing
// result timeout, but Salesforce's entries list shows routing answered
// meanwhile (a routing result and a queue position): the session waits on,
// Ann accepts, and the user closes.
func (d *driver) routingCheckAnswered(ctx context.Context) error {
	const user = "replay-routing-check-answered"
	st := settings()
	st.RoutingResultTimeout = 2 * time.Second
	d.fakes.RecentEventsResult = []workflows.AgentEvent{
		{EntryID: "entry-check-routing", Kind: workflows.AgentRoutingResult, RoutingType: "Initial", FailureType: "None", EstimatedWait: -1},
		{EntryID: "entry-check-queue", Kind: workflows.AgentQueuePosition, QueuePosition: 2},
	}
	defer func() { d.fakes.RecentEventsResult = nil }()
	run, err := d.start(ctx, user, st, 0)
	if err != nil {
		return err
	}
	if err := d.waitFor(ctx, user, "the queue position found by the check",
		func(v workflows.SessionView) bool { return v.QueuePosition == 2 }); err != nil {
		return err
	}
	if err := d.acceptAndWait(ctx, user); err != nil {
		return err
	}
	if _, err := d.update(ctx, user, workflows.UpdateClose, "close-1", workflows.UserClose{ID: "close-1"}); err != nil {
		return err
	}
	if err := d.finish(ctx, user, run, "routing-check-answered", workflows.CloseUserClosed); err != nil {
		return err
	}
	return d.requireMarker("routing-check-answered", "routing-check")
}

// shardContinueAsNew: a listener shard started on the session task queue
// (where every shard ran before they got their own) takes two members; the
// server then suggests continue-as-new, the shard drains its listener and
// continues. Both runs are recorded (the second so far).
func (d *driver) shardContinueAsNew(ctx context.Context) error {
	const k = 0
	first, err := d.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       workflows.ShardWorkflowID(k),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.ShardWorkflowName, workflows.ShardInput{Shard: k})
	if err != nil {
		return fmt.Errorf("start shard %d: %w", k, err)
	}
	for i, user := range []string{"replay-shard-a", "replay-shard-b", "replay-shard-c"} {
		m := workflows.ShardMember{UserID: user, WorkflowID: workflows.WorkflowID(user),
			RunID: fmt.Sprintf("run-%d", i), ConversationID: fmt.Sprintf("conversation-%d", i)}
		if err := d.c.SignalWorkflow(ctx, workflows.ShardWorkflowID(k), "", workflows.SignalShardJoin, m); err != nil {
			return fmt.Errorf("join %s: %w", user, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The continued run, once it has started its listener.
	continued := runOtherThan(first.GetRunID())
	desc, err := d.describeUntil(ctx, workflows.ShardWorkflowID(k), "to continue as new and listen",
		func(desc *workflowservice.DescribeWorkflowExecutionResponse) bool {
			return continued(desc) && slices.ContainsFunc(desc.GetPendingActivities(), func(pa *workflowpb.PendingActivityInfo) bool {
				return pa.GetActivityType().GetName() == workflows.ActivityListenShard
			})
		})
	if err != nil {
		return err
	}
	second := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	if err := d.exportWorkflow(ctx, workflows.ShardWorkflowID(k), first.GetRunID(), "shard-continue-as-new-run1"); err != nil {
		return err
	}
	if err := d.requireMarker("shard-continue-as-new-run1", "shard-own-task-queue"); err != nil {
		return err
	}
	if tq := desc.GetExecutionConfig().GetTaskQueue().GetName(); tq != workflows.ListenerShardTaskQueue {
		return fmt.Errorf("the continued shard runs on %q, want %q", tq, workflows.ListenerShardTaskQueue)
	}
	return d.exportWorkflow(ctx, workflows.ShardWorkflowID(k), second, "shard-continue-as-new-run2")
}

// describeUntil describes workflowID's latest run until cond holds (for a
// minute at most) and returns that description; what names the wait in the
// timeout error.
func (d *driver) describeUntil(ctx context.Context, workflowID, what string, cond func(*workflowservice.DescribeWorkflowExecutionResponse) bool) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		desc, err := d.c.DescribeWorkflowExecution(ctx, workflowID, "")
		if err != nil {
			return nil, fmt.Errorf("describe %s: %w", workflowID, err)
		}
		if cond(desc) {
			return desc, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, fmt.Errorf("timed out waiting for %s %s", workflowID, what)
}

// runOtherThan is a describeUntil condition: the latest run is not runID.
func runOtherThan(runID string) func(*workflowservice.DescribeWorkflowExecutionResponse) bool {
	return func(desc *workflowservice.DescribeWorkflowExecutionResponse) bool {
		return desc.GetWorkflowExecutionInfo().GetExecution().GetRunId() != runID
	}
}
