package soak

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

const (
	soakTopic      = "Soak"
	updateAttempt  = 15 * time.Second // one attempt of a user update, as an assistant's request timeout
	settleTimeout  = 3 * time.Minute  // waiting for in-flight messages before closing
	convPoll       = 300 * time.Millisecond
	describePoll   = 2 * time.Second
	maxProblemsPer = 5
	maxProblemLen  = 1500
)

// item is one thing a side sends: a text message or a file.
type item struct {
	id    string // the user's message id (user side)
	text  string
	file  *fileSpec
	token string // what the other side must receive
}

type fileSpec struct {
	name, mimeType string
	data           []byte
	sha256         string
}

// sessionSpec is the deterministic script of one session.
type sessionSpec struct {
	index       int
	userID      string
	description string
	agentCloses bool
	userItems   []item
	agentItems  []item
}

func textToken(s string) string   { return "text:" + s }
func fileToken(sha string) string { return "file:" + sha }

func newFile(name, content string) *fileSpec {
	var b strings.Builder
	for b.Len() < 1500 {
		b.WriteString(content)
	}
	data := []byte(b.String())
	sum := sha256.Sum256(data)
	return &fileSpec{name: name, mimeType: "text/plain", data: data, sha256: hex.EncodeToString(sum[:])}
}

// planSession scripts session i: messages per side, one file each way in the
// middle, and who closes (the agent on even sessions, the user on odd ones).
func planSession(seed int64, i, messages int) sessionSpec {
	userID := fmt.Sprintf("soak-%d-%04d", seed, i)
	s := sessionSpec{
		index:       i,
		userID:      userID,
		description: fmt.Sprintf("Soak session %d of seed %d needs a human", i, seed),
		agentCloses: i%2 == 0,
	}
	for k := 0; k < messages; k++ {
		if k == messages/2 {
			uf := newFile(fmt.Sprintf("user-%04d.txt", i), fmt.Sprintf("file from user %s\n", userID))
			s.userItems = append(s.userItems, item{id: fmt.Sprintf("%s-uf", userID), file: uf, token: fileToken(uf.sha256)})
			af := newFile(fmt.Sprintf("agent-%04d.txt", i), fmt.Sprintf("file from the agent of %s\n", userID))
			s.agentItems = append(s.agentItems, item{file: af, token: fileToken(af.sha256)})
		}
		ut := fmt.Sprintf("user %s message %02d", userID, k)
		s.userItems = append(s.userItems, item{id: fmt.Sprintf("%s-u%02d", userID, k), text: ut, token: textToken(ut)})
		at := fmt.Sprintf("agent to %s message %02d", userID, k)
		s.agentItems = append(s.agentItems, item{text: at, token: textToken(at)})
	}
	return s
}

// expectedUser is what the agent must see from the user, in order: the
// description (sent as the conversation's first message), then every item.
func (s sessionSpec) expectedUser() []string {
	out := []string{textToken(s.description)}
	for _, it := range s.userItems {
		out = append(out, it.token)
	}
	return out
}

func (s sessionSpec) expectedAgent() []string {
	out := make([]string, 0, len(s.agentItems))
	for _, it := range s.agentItems {
		out = append(out, it.token)
	}
	return out
}

// sessionOutcome is what verifying one session found.
type sessionOutcome struct {
	userID         string
	started        bool
	conversationID string
	userDiff       SequenceDiff
	agentDiff      SequenceDiff
	userSent       int // texts + files the user sent
	agentSent      int
	attachmentsOK  int
	ended          bool // workflow Completed with the expected close reason
	sfClosed       bool
	closedNotice   bool // exactly one distinct "session closed" delivery
	updateRetries  int
	problems       []string

	// sentAt is when each item (by token) was first handed to the bridge,
	// both directions; timings pairs it with its first arrival.
	sentMu  sync.Mutex
	sentAt  map[string]time.Time
	timings []msgTiming
}

// msgTiming is one delivered message: what, when it was sent and when it
// arrived.
type msgTiming struct {
	token         string
	sent, arrived time.Time
}

func (o *sessionOutcome) markSent(token string) {
	o.sentMu.Lock()
	defer o.sentMu.Unlock()
	if o.sentAt == nil {
		o.sentAt = make(map[string]time.Time)
	}
	if _, ok := o.sentAt[token]; !ok {
		o.sentAt[token] = time.Now()
	}
}

func (o *sessionOutcome) problemf(format string, args ...any) {
	if len(o.problems) < maxProblemsPer {
		msg := fmt.Sprintf(format, args...)
		if len(msg) > maxProblemLen {
			msg = msg[:maxProblemLen] + "…"
		}
		o.problems = append(o.problems, o.userID+": "+msg)
	}
}

func (o *sessionOutcome) clean() bool {
	return len(o.problems) == 0 && o.userDiff.Clean() && o.agentDiff.Clean() && o.ended && o.sfClosed
}

// sessionRunner runs and verifies one scripted session.
type sessionRunner struct {
	*run
	spec sessionSpec
	rng  *rand.Rand // only used by the session's own goroutines, under rngMu
	out  *sessionOutcome

	rngMu sync.Mutex
}

func (s *sessionRunner) pause(ctx context.Context) {
	s.rngMu.Lock()
	d := time.Duration(s.rng.Int63n(int64(s.opts.PaceMax) + 1))
	s.rngMu.Unlock()
	sleepCtx(ctx, d)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// retry runs fn until it succeeds, the error is permanent (invalid request,
// no session, rejected by the workflow) or ctx ends. Each attempt gets updateAttempt. Callers pass the
// same ids on every attempt, as an assistant retrying a request would.
func (s *sessionRunner) retry(ctx context.Context, what string, fn func(context.Context) error) error {
	backoff := 250 * time.Millisecond
	for {
		actx, cancel := context.WithTimeout(ctx, updateAttempt)
		err := fn(actx)
		cancel()
		if err == nil {
			return nil
		}
		if errors.Is(err, starter.ErrInvalid) || errors.Is(err, starter.ErrNoSession) || errors.Is(err, starter.ErrRejected) {
			return fmt.Errorf("%s: %w", what, err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: gave up at the soak deadline: %w", what, err)
		}
		s.out.updateRetries++
		s.log.Debug("retrying", "user", s.spec.userID, "what", what, "error", err)
		sleepCtx(ctx, backoff)
		backoff = min(backoff*2, 4*time.Second)
	}
}

func (s *sessionRunner) runSession(ctx context.Context) {
	s.script(ctx)
	if !s.out.clean() && s.out.started {
		path, err := dumpHistory(ctx, s.tc, s.historyDir, workflows.WorkflowID(s.spec.userID))
		if err != nil {
			s.log.Warn("cannot dump the history of a failed session", "user", s.spec.userID, "error", err)
		} else {
			s.log.Info("failed session history saved", "user", s.spec.userID, "path", path)
		}
	}
}

// script runs the session's script and verifies it; problems land in s.out.
func (s *sessionRunner) script(ctx context.Context) {
	spec := s.spec
	req := starter.StartRequest{UserID: spec.userID, Topic: soakTopic, Description: spec.description, Locale: "en_US"}
	if err := s.retry(ctx, "start session", func(ctx context.Context) error {
		_, err := s.starter.Start(ctx, req)
		return err
	}); err != nil {
		s.out.problemf("%v", err)
		s.compare("")
		return
	}
	s.out.started = true

	conv, err := s.acceptConversation(ctx)
	if err != nil {
		s.out.problemf("%v", err)
		s.compare("")
		return
	}
	s.out.conversationID = conv

	var wg sync.WaitGroup
	wg.Add(2)
	var userErr, agentErr error
	go func() { defer wg.Done(); userErr = s.userSide(ctx) }()
	go func() { defer wg.Done(); agentErr = s.agentSide(ctx, conv) }()
	wg.Wait()
	if userErr != nil {
		s.out.problemf("user side: %v", userErr)
	}
	if agentErr != nil {
		s.out.problemf("agent side: %v", agentErr)
	}

	// Keep every session open until the chaos loop has killed the worker
	// the required number of times and a stream ran into token expiry.
	select {
	case <-s.killsDone:
	case <-ctx.Done():
		s.out.problemf("soak deadline before the required worker kills")
		s.compare(conv)
		return
	}

	// Let in-flight messages land before closing: the user's must be in
	// Salesforce before anyone closes; when the user closes, the agent's
	// must have reached the user too (closing stops the stream). When the
	// agent closes, its last messages race the end on purpose.
	s.waitFor(ctx, func() bool { return CompareSequences(spec.expectedUser(), s.userReceived(conv)).Lost == 0 })
	if !spec.agentCloses {
		s.waitFor(ctx, func() bool { return CompareSequences(spec.expectedAgent(), s.agentReceived()).Lost == 0 })
	}

	if spec.agentCloses {
		if err := s.emu.AgentEnd(conv); err != nil {
			s.out.problemf("agent end: %v", err)
		}
	} else if err := s.retry(ctx, "close", func(ctx context.Context) error {
		_, err := s.starter.Close(ctx, spec.userID, spec.userID+"-close", "soak finished")
		if err != nil && !s.running(ctx) {
			// An assistant stops retrying once the session is over; the
			// verification below reports how it ended.
			return nil
		}
		return err
	}); err != nil {
		s.out.problemf("%v", err)
	}

	s.verify(ctx, conv)
}

// acceptConversation finds the session's conversation in the emulator and
// accepts it as the agent.
func (s *sessionRunner) acceptConversation(ctx context.Context) (string, error) {
	agent := fmt.Sprintf("Agent %03d", s.spec.index%1000)
	delayed := s.opts.AcceptDelay <= 0
	for {
		if info, ok := s.findConversation(); ok {
			switch info.State {
			case "active":
				return info.ID, nil
			case "waiting":
				if !delayed {
					sleepCtx(ctx, s.opts.AcceptDelay)
					delayed = true
					continue
				}
				if err := s.emu.Accept(info.ID, agent); err == nil {
					return info.ID, nil
				} else {
					s.log.Debug("accept failed, retrying", "user", s.spec.userID, "error", err)
				}
			default:
				return "", fmt.Errorf("conversation %s is %s before the agent accepted", info.ID, info.State)
			}
		}
		if ctx.Err() != nil {
			return "", errors.New("the conversation never reached the agent's queue")
		}
		sleepCtx(ctx, convPoll)
	}
}

func (s *sessionRunner) findConversation() (emulator.ConversationInfo, bool) {
	for _, c := range s.emu.Conversations() {
		if c.RoutingAttributes[s.settings.RoutingUserField] == s.spec.userID || strings.HasSuffix(c.UserSubject, "uid:"+s.spec.userID) {
			return c, true
		}
	}
	return emulator.ConversationInfo{}, false
}

func (s *sessionRunner) userSide(ctx context.Context) error {
	for _, it := range s.spec.userItems {
		s.pause(ctx)
		s.out.markSent(it.token)
		var res workflows.UpdateResult
		var err error
		if it.file != nil {
			err = s.retry(ctx, "send attachment "+it.id, func(ctx context.Context) error {
				var e error
				res, e = s.starter.SendAttachment(ctx, s.spec.userID, it.id, it.file.name, it.file.mimeType, "", bytes.NewReader(it.file.data))
				return e
			})
		} else {
			err = s.retry(ctx, "send message "+it.id, func(ctx context.Context) error {
				var e error
				res, e = s.starter.SendMessage(ctx, s.spec.userID, it.id, it.text)
				return e
			})
		}
		if err != nil {
			return err
		}
		s.out.userSent++
		switch res.Status {
		case workflows.UpdateSent, workflows.UpdateQueued, workflows.UpdateDuplicate:
		default:
			return fmt.Errorf("update %s: unexpected status %q", it.id, res.Status)
		}
	}
	return nil
}

func (s *sessionRunner) agentSide(ctx context.Context, conv string) error {
	for _, it := range s.spec.agentItems {
		s.pause(ctx)
		s.out.markSent(it.token)
		var err error
		if it.file != nil {
			_, err = s.emu.AgentSendFile(conv, it.file.name, it.file.mimeType, it.file.data)
		} else {
			_, err = s.emu.AgentSend(conv, it.text)
		}
		if err != nil {
			return fmt.Errorf("agent send %q: %w", it.token, err)
		}
		s.out.agentSent++
	}
	return nil
}

// waitFor polls cond until it holds, settleTimeout passes or ctx ends.
func (s *sessionRunner) waitFor(ctx context.Context, cond func() bool) bool {
	deadline := time.Now().Add(settleTimeout)
	for !cond() {
		if ctx.Err() != nil || time.Now().After(deadline) {
			return false
		}
		sleepCtx(ctx, convPoll)
	}
	return true
}

// userReceived is what the agent saw from the end user, in transcript order.
func (s *sessionRunner) userReceived(conv string) []string {
	var out []string
	for _, e := range s.emu.Transcript(conv) {
		if e.Role != "EndUser" {
			continue
		}
		if e.Attachment != nil {
			out = append(out, fileToken(e.Attachment.SHA256))
			continue
		}
		out = append(out, textToken(e.Text))
	}
	return out
}

// agentReceived is what the user was shown from the agent: one token per
// distinct webhook delivery id, in first-arrival order.
func (s *sessionRunner) agentReceived() []string {
	var out []string
	for _, d := range s.hook.deliveries(s.spec.userID) {
		if d.Kind != workflows.DeliverAgentMessage {
			continue
		}
		if d.Attachment != nil {
			out = append(out, fileToken(d.Attachment.SHA256))
			continue
		}
		out = append(out, textToken(d.Text))
	}
	return out
}

// verify waits for the workflow to finish and checks everything the session
// promised.
func (s *sessionRunner) verify(ctx context.Context, conv string) {
	spec := s.spec
	wantReason := workflows.CloseUserClosed
	if spec.agentCloses {
		wantReason = workflows.CloseAgentEnded
	}
	wfID := workflows.WorkflowID(spec.userID)
	status, err := s.waitClosed(ctx, wfID)
	switch {
	case err != nil:
		s.out.problemf("workflow %s: %v", wfID, err)
	case status != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		s.out.problemf("workflow %s ended %s, want Completed", wfID, status)
	default:
		var res workflows.SessionResult
		if err := s.tc.GetWorkflow(ctx, wfID, "").Get(ctx, &res); err != nil {
			s.out.problemf("workflow %s result: %v", wfID, err)
		} else if res.CloseReason != wantReason {
			s.out.problemf("workflow %s close reason %q, want %q", wfID, res.CloseReason, wantReason)
		} else {
			s.out.ended = true
		}
	}

	// Nothing may stay open in Salesforce. The workflow closes the
	// conversation before it completes; allow a little slack anyway.
	deadline := time.Now().Add(15 * time.Second)
	for {
		state := ""
		for _, c := range s.emu.Conversations() {
			if c.ID == conv {
				state = c.State
			}
		}
		if state == "closed" {
			s.out.sfClosed = true
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.out.problemf("Salesforce conversation %s is %q, want closed", conv, state)
			break
		}
		sleepCtx(ctx, convPoll)
	}

	userGot, agentGot := s.compare(conv)

	// The user is told exactly once that the session ended.
	closed := 0
	for _, d := range s.hook.deliveries(spec.userID) {
		if d.Kind == workflows.DeliverClosed {
			closed++
		}
	}
	if closed == 1 {
		s.out.closedNotice = true
	} else {
		s.out.problemf("the user got %d distinct session-closed notices, want 1", closed)
	}

	// Attachments: exactly once each way with the right content. The agent's
	// file is also re-read from the attachment store and re-hashed.
	for _, it := range spec.userItems {
		if it.file != nil && count(userGot, it.token) == 1 {
			s.out.attachmentsOK++
		}
	}
	for _, it := range spec.agentItems {
		if it.file == nil || count(agentGot, it.token) != 1 {
			continue
		}
		if err := s.checkStored(it.file); err != nil {
			s.out.problemf("agent file %s: %v", it.file.name, err)
			continue
		}
		s.out.attachmentsOK++
	}
}

// compare diffs both directions against the full script, so a session that
// stopped early shows what it never delivered as lost. conv may be "" when
// the conversation was never found.
func (s *sessionRunner) compare(conv string) (userGot, agentGot []string) {
	if conv != "" {
		userGot = s.userReceived(conv)
	}
	agentGot = s.agentReceived()
	s.recordTimings(conv)
	s.out.userDiff = CompareSequences(s.spec.expectedUser(), userGot)
	s.out.agentDiff = CompareSequences(s.spec.expectedAgent(), agentGot)
	if !s.out.userDiff.Clean() {
		s.out.problemf("user→agent %+v; agent saw %q", s.out.userDiff, userGot)
	}
	if !s.out.agentDiff.Clean() {
		s.out.problemf("agent→user %+v; user saw %q", s.out.agentDiff, agentGot)
	}
	return userGot, agentGot
}

// recordTimings pairs every sent item with its first arrival: the emulator's
// transcript time (user→agent) or the webhook's first delivery (agent→user).
func (s *sessionRunner) recordTimings(conv string) {
	arrived := map[string]time.Time{}
	first := func(token string, at time.Time) {
		if _, ok := arrived[token]; !ok {
			arrived[token] = at
		}
	}
	if conv != "" {
		for _, e := range s.emu.Transcript(conv) {
			switch {
			case e.Role != "EndUser":
			case e.Attachment != nil:
				first(fileToken(e.Attachment.SHA256), e.At)
			default:
				first(textToken(e.Text), e.At)
			}
		}
	}
	for _, d := range s.hook.deliveries(s.spec.userID) {
		switch {
		case d.Kind != workflows.DeliverAgentMessage:
		case d.Attachment != nil:
			first(fileToken(d.Attachment.SHA256), d.at)
		default:
			first(textToken(d.Text), d.at)
		}
	}
	s.out.sentMu.Lock()
	defer s.out.sentMu.Unlock()
	s.out.timings = s.out.timings[:0]
	for token, sent := range s.out.sentAt {
		if at, ok := arrived[token]; ok {
			s.out.timings = append(s.out.timings, msgTiming{token: token, sent: sent, arrived: at})
		}
	}
}

// running reports whether the session workflow is still running (true when
// that cannot be told).
func (s *sessionRunner) running(ctx context.Context) bool {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := s.tc.DescribeWorkflowExecution(dctx, workflows.WorkflowID(s.spec.userID), "")
	if err != nil {
		return true
	}
	return resp.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
}

// waitClosed polls the latest run of wfID until it is no longer running.
func (s *sessionRunner) waitClosed(ctx context.Context, wfID string) (enumspb.WorkflowExecutionStatus, error) {
	var lastErr error
	for {
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		resp, err := s.tc.DescribeWorkflowExecution(dctx, wfID, "")
		cancel()
		if err == nil {
			st := resp.GetWorkflowExecutionInfo().GetStatus()
			if st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && st != enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW {
				return st, nil
			}
			lastErr = fmt.Errorf("still %s", st)
		} else {
			lastErr = err
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("did not finish before the soak deadline: %w", lastErr)
		}
		sleepCtx(ctx, describePoll)
	}
}

func (s *sessionRunner) checkStored(f *fileSpec) error {
	rc, size, err := s.store.Open(f.sha256)
	if err != nil {
		return fmt.Errorf("open from attachment store: %w", err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return fmt.Errorf("read from attachment store: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.sha256 || n != int64(len(f.data)) || size != int64(len(f.data)) {
		return fmt.Errorf("stored copy has sha256 %s and %d bytes, want %s and %d", got, n, f.sha256, len(f.data))
	}
	return nil
}

func count(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}
