package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

func sfErr(op string, status int, msg string) *miaw.Error {
	return &miaw.Error{Op: op, Method: "POST", Endpoint: "/iamessage/api/v2/conversation/{id}/message", Status: status, Message: msg}
}

func TestStreamPosition(t *testing.T) {
	_, sf, env := testActivities(t)
	val, err := env.ExecuteActivity(workflows.ActivityStreamPosition, workflows.StreamPositionInput{UserID: "u-1"})
	if err != nil {
		t.Fatalf("StreamPosition: %v", err)
	}
	var res workflows.StreamPositionResult
	if err := val.Get(&res); err != nil || res.LastEventID != fakeCursor {
		t.Fatalf("result = %+v (%v), want the token's stream position %q", res, err, fakeCursor)
	}
	if len(sf.created) != 0 {
		t.Fatal("taking the stream position created a conversation")
	}

	_, err = env.ExecuteActivity(workflows.ActivityStreamPosition, workflows.StreamPositionInput{})
	assertNonRetryable(t, err, ErrTypeInvalidInput)

	sf.failNext("Token", &miaw.Error{Op: "access token", Status: 503})
	_, err = env.ExecuteActivity(workflows.ActivityStreamPosition, workflows.StreamPositionInput{UserID: "u-1"})
	assertRetryable(t, err, ErrTypeSalesforceRetryable, 0)
}

func TestCreateConversation(t *testing.T) {
	_, sf, env := testActivities(t)
	in := workflows.CreateConversationInput{
		UserID: "u-1", ConversationID: "0f8e8c1e-6c8e-4a3b-9a0b-1c2d3e4f5a6b",
		RoutingAttributes: map[string]string{"UserId": "u-1", "Topic": "billing"}, Language: "en_US",
	}
	val, err := env.ExecuteActivity(workflows.ActivityCreateConversation, in)
	if err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}
	var res workflows.CreateConversationResult
	if err := val.Get(&res); err != nil || res.LastEventID != fakeCursor {
		t.Fatalf("result = %+v (%v), want the token's stream position %q", res, err, fakeCursor)
	}
	if calls := sf.calls; len(calls) < 2 || calls[0] != "Token" || calls[1] != "CreateConversation" {
		t.Fatalf("calls = %v, want the token (cursor) taken before the create", calls)
	}
	if len(sf.created) != 1 {
		t.Fatalf("created %d conversations, want 1", len(sf.created))
	}
	got := sf.created[0]
	if got.ConversationID != in.ConversationID || got.Language != "en_US" || got.RoutingAttributes["Topic"] != "billing" {
		t.Fatalf("request = %+v", got)
	}
}

func TestCreateConversationConflictIsSuccess(t *testing.T) {
	_, sf, env := testActivities(t)
	sf.failNext("CreateConversation", sfErr("create conversation", 409, "conversation already exists"))
	_, err := env.ExecuteActivity(workflows.ActivityCreateConversation, workflows.CreateConversationInput{UserID: "u", ConversationID: "c"})
	if err != nil {
		t.Fatalf("409 should be success on retry, got %v", err)
	}
}

func TestCreateConversationInvalidInput(t *testing.T) {
	_, sf, env := testActivities(t)
	_, err := env.ExecuteActivity(workflows.ActivityCreateConversation, workflows.CreateConversationInput{UserID: "u"})
	assertNonRetryable(t, err, ErrTypeInvalidInput)
	if !strings.Contains(err.Error(), "ConversationID") {
		t.Fatalf("error does not name the field: %v", err)
	}
	if sf.callCount("CreateConversation") != 0 {
		t.Fatal("Salesforce was called with invalid input")
	}
}

func TestSendMessage(t *testing.T) {
	_, sf, env := testActivities(t)
	in := workflows.SendMessageInput{
		UserID: "u-1", ConversationID: "c-1", MessageID: "m-1", Text: "hello", Language: "en_US",
	}
	val, err := env.ExecuteActivity(workflows.ActivitySendMessage, in)
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	var res workflows.SendResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	if res.EntryID != "entry-m-1" {
		t.Fatalf("EntryID = %q", res.EntryID)
	}
	msg := sf.messages[0]
	if msg.ID != "m-1" || msg.Text != "hello" || msg.Language != "en_US" || !msg.NoNewSession {
		t.Fatalf("message = %+v", msg)
	}
}

func TestSendMessageErrorMapping(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		retryable bool
		errType   string
		delay     time.Duration
	}{
		{"400", sfErr("send message", 400, "Specify the conversationId in UUID format."), false, ErrTypeSalesforcePermanent, 0},
		{"403", sfErr("send message", 403, "forbidden"), false, ErrTypeSalesforcePermanent, 0},
		{"404", sfErr("send message", 404, "no such conversation"), false, ErrTypeSalesforcePermanent, 0},
		{"413", sfErr("send message", 413, "too large"), false, ErrTypeSalesforcePermanent, 0},
		{"415", sfErr("send message", 415, "unsupported"), false, ErrTypeSalesforcePermanent, 0},
		{"417 session ended", sfErr("send message", 417, "No active messaging session"), false, ErrTypeSessionEnded, 0},
		{"unverified subject", fmt.Errorf("token: %w", miaw.ErrUnverifiedSubject), false, ErrTypeSalesforcePermanent, 0},
		{"invalid request", fmt.Errorf("%w: send message: id", miaw.ErrInvalidRequest), false, ErrTypeSalesforcePermanent, 0},
		{"429 with Retry-After", &miaw.Error{Op: "send message", Status: 429, RetryAfter: 7 * time.Second}, true, ErrTypeSalesforceRetryable, 7 * time.Second},
		{"429 without Retry-After", sfErr("send message", 429, "slow down"), true, ErrTypeSalesforceRetryable, 0},
		{"503", &miaw.Error{Op: "send message", Status: 503, RetryAfter: 2 * time.Second}, true, ErrTypeSalesforceRetryable, 2 * time.Second},
		{"network", &miaw.Error{Op: "send message", Err: errors.New("connection refused")}, true, ErrTypeSalesforceRetryable, 0},
		{"per-call timeout", &miaw.Error{Op: "send message", Err: context.DeadlineExceeded}, true, ErrTypeSalesforceRetryable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, sf, env := testActivities(t)
			sf.failNext("SendMessage", tt.err)
			_, err := env.ExecuteActivity(workflows.ActivitySendMessage,
				workflows.SendMessageInput{UserID: "u", ConversationID: "c", MessageID: "m", Text: "hi"})
			if tt.retryable {
				assertRetryable(t, err, tt.errType, tt.delay)
			} else {
				assertNonRetryable(t, err, tt.errType)
			}
			if !strings.Contains(err.Error(), "send message") {
				t.Fatalf("error lacks context: %v", err)
			}
		})
	}
}

func TestErrorsNeverCarryTokens(t *testing.T) {
	_, sf, env := testActivities(t)
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1LTEifQ.c2lnbmF0dXJl"
	sf.failNext("SendMessage", &miaw.Error{Op: "send message", Status: 401, Message: "Jwt is expired: Bearer " + jwt})
	_, err := env.ExecuteActivity(workflows.ActivitySendMessage,
		workflows.SendMessageInput{UserID: "u", ConversationID: "c", MessageID: "m", Text: "hi"})
	assertNonRetryable(t, err, ErrTypeSalesforcePermanent)
	if strings.Contains(err.Error(), jwt) || strings.Contains(err.Error(), "c2lnbmF0dXJl") {
		t.Fatalf("token leaked into error: %v", err)
	}
	if !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("expected redaction marker: %v", err)
	}
}

func TestSendMessageValidation(t *testing.T) {
	_, sf, env := testActivities(t)
	for _, in := range []workflows.SendMessageInput{
		{ConversationID: "c", MessageID: "m", Text: "x"},
		{UserID: "u", MessageID: "m", Text: "x"},
		{UserID: "u", ConversationID: "c", Text: "x"},
		{UserID: "u", ConversationID: "c", MessageID: "m", Text: "  "},
	} {
		_, err := env.ExecuteActivity(workflows.ActivitySendMessage, in)
		assertNonRetryable(t, err, ErrTypeInvalidInput)
	}
	if n := sf.callCount("SendMessage"); n != 0 {
		t.Fatalf("SendMessage called %d times with invalid input", n)
	}
}

func TestSendAttachment(t *testing.T) {
	a, sf, env := testActivities(t)
	content := []byte("%PDF-1.4 fake pdf bytes")
	sum, size, err := a.Store.Put(bytes.NewReader(content), 0)
	if err != nil {
		t.Fatal(err)
	}
	in := workflows.SendAttachmentInput{
		UserID: "u-1", ConversationID: "c-1", MessageID: "m-9",
		Attachment: workflows.UserAttachment{ID: "m-9", Name: "../../etc/invoice\n.pdf", MimeType: "application/pdf", Size: size, SHA256: sum, Caption: "my invoice"},
	}
	val, err := env.ExecuteActivity(workflows.ActivitySendAttachment, in)
	if err != nil {
		t.Fatalf("SendAttachment: %v", err)
	}
	var res workflows.SendResult
	_ = val.Get(&res)
	if res.EntryID != "entry-m-9" {
		t.Fatalf("EntryID = %q", res.EntryID)
	}
	// A retry sends the same file id.
	if _, err := env.ExecuteActivity(workflows.ActivitySendAttachment, in); err != nil {
		t.Fatal(err)
	}
	if len(sf.files) != 2 {
		t.Fatalf("%d uploads, want 2", len(sf.files))
	}
	f := sf.files[0]
	if !bytes.Equal(f.Data, content) {
		t.Fatalf("uploaded %q, want the stored bytes", f.Data)
	}
	if f.Name != "invoice.pdf" || f.MimeType != "application/pdf" || f.Caption != "my invoice" || f.MessageID != "m-9" {
		t.Fatalf("file = %+v", f)
	}
	if _, err := uuid.Parse(f.FileID); err != nil {
		t.Fatalf("FileID %q is not a UUID: %v", f.FileID, err)
	}
	if f.FileID != sf.files[1].FileID || f.FileID != FileIDFor("m-9") {
		t.Fatalf("FileID not deterministic: %q vs %q", f.FileID, sf.files[1].FileID)
	}
	if FileIDFor("m-10") == f.FileID {
		t.Fatal("different messages got the same FileID")
	}
}

func TestSendAttachmentMissingContent(t *testing.T) {
	_, sf, env := testActivities(t)
	in := workflows.SendAttachmentInput{
		UserID: "u", ConversationID: "c", MessageID: "m",
		Attachment: workflows.UserAttachment{Name: "x.txt", SHA256: strings.Repeat("ab", 32)},
	}
	_, err := env.ExecuteActivity(workflows.ActivitySendAttachment, in)
	assertNonRetryable(t, err, ErrTypeAttachmentNotFound)
	in.Attachment.SHA256 = "../../etc/passwd"
	_, err = env.ExecuteActivity(workflows.ActivitySendAttachment, in)
	assertNonRetryable(t, err, ErrTypeAttachmentNotFound)
	if sf.callCount("SendFile") != 0 {
		t.Fatal("SendFile called without content")
	}
}

// Salesforce's 413 and 415 for a user file keep their meaning (and
// Salesforce's message) as error types; other refusals are permanent.
func TestSendAttachmentPermanentError(t *testing.T) {
	a, sf, env := testActivities(t)
	sum, _, _ := a.Store.Put(strings.NewReader("data"), 0)
	in := workflows.SendAttachmentInput{
		UserID: "u", ConversationID: "c", MessageID: "m",
		Attachment: workflows.UserAttachment{Name: "x.exe", SHA256: sum},
	}
	for status, want := range map[int]string{415: ErrTypeUnsupportedFileType, 413: ErrTypeAttachmentTooLarge, 400: ErrTypeSalesforcePermanent} {
		sf.failNext("SendFile", &miaw.Error{Op: "send file", Status: status, Message: "refused by Salesforce"})
		_, err := env.ExecuteActivity(workflows.ActivitySendAttachment, in)
		assertNonRetryable(t, err, want)
		if !strings.Contains(err.Error(), "refused by Salesforce") {
			t.Errorf("%d: Salesforce's message is lost: %v", status, err)
		}
	}
}

func TestEndConversation(t *testing.T) {
	_, sf, env := testActivities(t)
	in := workflows.EndConversationInput{UserID: "u", ConversationID: "c"}
	if _, err := env.ExecuteActivity(workflows.ActivityEndConversation, in); err != nil {
		t.Fatalf("first EndConversation: %v", err)
	}
	if !sf.ended["c"] || !sf.closed["c"] {
		t.Fatalf("ended=%v closed=%v", sf.ended["c"], sf.closed["c"])
	}
	wantOrder := []string{"EndSession", "CloseConversation"}
	if fmt.Sprint(sf.calls) != fmt.Sprint(wantOrder) {
		t.Fatalf("calls = %v, want %v", sf.calls, wantOrder)
	}
	// Idempotent: the fake now answers 404 to both.
	if _, err := env.ExecuteActivity(workflows.ActivityEndConversation, in); err != nil {
		t.Fatalf("second EndConversation: %v", err)
	}
	if sf.callCount("EndSession") != 2 || sf.callCount("CloseConversation") != 2 {
		t.Fatalf("calls = %v", sf.calls)
	}
}

func TestEndConversationAlreadyEndedAnswers(t *testing.T) {
	for _, err := range []error{
		&miaw.Error{Op: "end session", Status: 409, Message: "conflict"},
		&miaw.Error{Op: "end session", Status: 400, Message: "The messaging session has already ended."},
		&miaw.Error{Op: "end session", Status: 417, Message: "No active messaging session: session ended"},
	} {
		_, sf, env := testActivities(t)
		sf.failNext("EndSession", err)
		if _, got := env.ExecuteActivity(workflows.ActivityEndConversation, workflows.EndConversationInput{UserID: "u", ConversationID: "c"}); got != nil {
			t.Errorf("%v: got %v, want success", err, got)
		}
	}
}

func TestEndConversationAttemptsBothSteps(t *testing.T) {
	_, sf, env := testActivities(t)
	sf.failNext("EndSession", &miaw.Error{Op: "end session", Status: 403, Message: "forbidden"})
	_, err := env.ExecuteActivity(workflows.ActivityEndConversation, workflows.EndConversationInput{UserID: "u", ConversationID: "c"})
	assertNonRetryable(t, err, ErrTypeSalesforcePermanent)
	if !strings.Contains(err.Error(), "end messaging session") || !strings.Contains(err.Error(), "403") {
		t.Fatalf("error does not report the failed step: %v", err)
	}
	if !sf.closed["c"] {
		t.Fatal("CloseConversation not attempted after EndSession failed")
	}
}

func TestEndConversationRetryableWhenEitherStepIs(t *testing.T) {
	_, sf, env := testActivities(t)
	sf.failNext("EndSession", &miaw.Error{Op: "end session", Status: 403, Message: "forbidden"})
	sf.failNext("CloseConversation", &miaw.Error{Op: "close conversation", Status: 503, RetryAfter: 3 * time.Second})
	_, err := env.ExecuteActivity(workflows.ActivityEndConversation, workflows.EndConversationInput{UserID: "u", ConversationID: "c"})
	assertRetryable(t, err, ErrTypeSalesforceRetryable, 3*time.Second)
	msg := err.Error()
	if i, j := strings.Index(msg, "end messaging session"), strings.Index(msg, "close conversation"); i < 0 || j < 0 || i > j {
		t.Fatalf("want both steps, first failure first: %v", msg)
	}
	// The retry succeeds: session 403 is gone, conversation closes.
	if _, err := env.ExecuteActivity(workflows.ActivityEndConversation, workflows.EndConversationInput{UserID: "u", ConversationID: "c"}); err != nil {
		t.Fatalf("retry: %v", err)
	}
}
