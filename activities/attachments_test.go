package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

func TestDownloadAttachmentStoresByHash(t *testing.T) {
	a, sf, env := testActivities(t)
	content := []byte("agent's invoice bytes")
	sf.downloads["https://org.my.salesforce-scrt.com/file/1"] = &miaw.Download{Name: "in/voice.pdf", MimeType: "application/pdf", Data: content}
	in := workflows.DownloadInput{
		UserID: "u", ConversationID: "c", EntryID: "e-1",
		Attachment: workflows.AgentAttachment{ID: "a-1", Name: "invoice.pdf", URL: "https://org.my.salesforce-scrt.com/file/1"},
		MaxSize:    1 << 20,
	}
	val, err := env.ExecuteActivity(workflows.ActivityDownloadAttachment, in)
	if err != nil {
		t.Fatalf("DownloadAttachment: %v", err)
	}
	var ref workflows.AttachmentRef
	if err := val.Get(&ref); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(content)
	want := hex.EncodeToString(h[:])
	if ref.SHA256 != want || ref.Size != int64(len(content)) {
		t.Fatalf("ref = %+v, want sha %s size %d", ref, want, len(content))
	}
	if ref.URL != "https://bridge.example/attachments/"+want {
		t.Fatalf("URL = %q", ref.URL)
	}
	if ref.Name != "voice.pdf" || ref.MimeType != "application/pdf" {
		t.Fatalf("name/type = %q %q", ref.Name, ref.MimeType)
	}
	// Round trip through the store.
	rc, _, err := a.Store.Open(ref.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != string(content) {
		t.Fatalf("stored %q", got)
	}
	// Same file again: same ref.
	val, err = env.ExecuteActivity(workflows.ActivityDownloadAttachment, in)
	if err != nil {
		t.Fatal(err)
	}
	var ref2 workflows.AttachmentRef
	_ = val.Get(&ref2)
	if ref2 != ref {
		t.Fatalf("second download %+v != %+v", ref2, ref)
	}
}

func TestDownloadAttachmentDetectsType(t *testing.T) {
	_, sf, env := testActivities(t)
	sf.downloads["u1"] = &miaw.Download{Data: []byte("\x89PNG\r\n\x1a\n rest of png")}
	val, err := env.ExecuteActivity(workflows.ActivityDownloadAttachment, workflows.DownloadInput{
		UserID: "u", Attachment: workflows.AgentAttachment{Name: "", URL: "u1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var ref workflows.AttachmentRef
	_ = val.Get(&ref)
	if ref.MimeType != "image/png" || ref.Name != "attachment" {
		t.Fatalf("ref = %+v", ref)
	}
}

func TestDownloadAttachmentTooLarge(t *testing.T) {
	a, sf, env := testActivities(t)
	a.MaxDownloadBytes = 100
	sf.downloads["big"] = &miaw.Download{Name: "big.bin", Data: []byte(strings.Repeat("x", 101))}
	_, err := env.ExecuteActivity(workflows.ActivityDownloadAttachment, workflows.DownloadInput{
		UserID: "u", Attachment: workflows.AgentAttachment{Name: "big.bin", URL: "big"},
	})
	assertNonRetryable(t, err, ErrTypeAttachmentTooLarge)
	h := sha256.Sum256([]byte(strings.Repeat("x", 101)))
	if a.Store.Has(hex.EncodeToString(h[:])) {
		t.Fatal("oversized attachment stored")
	}
	// The client's own cap maps the same way.
	sf.failNext("DownloadAttachment", fmt.Errorf("download: %w", miaw.ErrAttachmentTooLarge))
	_, err = env.ExecuteActivity(workflows.ActivityDownloadAttachment, workflows.DownloadInput{
		UserID: "u", Attachment: workflows.AgentAttachment{URL: "big"},
	})
	assertNonRetryable(t, err, ErrTypeAttachmentTooLarge)
}

// TestAgentFileLimitIsTheDownloadLimit: in.MaxSize is the workflow's user
// upload limit (session.max_attachment_bytes); an agent's file larger than
// it but within attachments.max_download_bytes is stored.
func TestAgentFileLimitIsTheDownloadLimit(t *testing.T) {
	a, sf, env := testActivities(t)
	a.MaxDownloadBytes = 1000
	sf.downloads["mid"] = &miaw.Download{Name: "mid.bin", Data: []byte(strings.Repeat("y", 500))}
	val, err := env.ExecuteActivity(workflows.ActivityDownloadAttachment, workflows.DownloadInput{
		UserID: "u", Attachment: workflows.AgentAttachment{Name: "mid.bin", URL: "mid"}, MaxSize: 100,
	})
	if err != nil {
		t.Fatalf("a 500-byte agent file with a 100-byte upload limit and a 1000-byte download limit: %v", err)
	}
	var ref workflows.AttachmentRef
	_ = val.Get(&ref)
	if ref.Size != 500 || !a.Store.Has(ref.SHA256) {
		t.Fatalf("ref = %+v", ref)
	}
}

func TestDownloadAttachmentErrors(t *testing.T) {
	_, sf, env := testActivities(t)
	_, err := env.ExecuteActivity(workflows.ActivityDownloadAttachment, workflows.DownloadInput{UserID: "u"})
	assertNonRetryable(t, err, ErrTypeInvalidInput)

	sf.failNext("DownloadAttachment", &miaw.Error{Op: "download attachment", Status: 502})
	_, err = env.ExecuteActivity(workflows.ActivityDownloadAttachment, workflows.DownloadInput{
		UserID: "u", Attachment: workflows.AgentAttachment{URL: "x"},
	})
	assertRetryable(t, err, ErrTypeSalesforceRetryable, 0)

	// Not found (no scripted download) is permanent.
	_, err = env.ExecuteActivity(workflows.ActivityDownloadAttachment, workflows.DownloadInput{
		UserID: "u", Attachment: workflows.AgentAttachment{URL: "missing"},
	})
	assertNonRetryable(t, err, ErrTypeSalesforcePermanent)
}

// recordingSink records deliveries and returns scripted errors.
type recordingSink struct {
	got  []workflows.Delivery
	errs []error
}

func (s *recordingSink) Deliver(_ context.Context, d workflows.Delivery) error {
	s.got = append(s.got, d)
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		return err
	}
	return nil
}

func TestDeliverToUser(t *testing.T) {
	a, _, env := testActivities(t)
	sink := &recordingSink{}
	a.Sink = sink
	d := workflows.Delivery{ID: "e-1", SessionID: "s", UserID: "u", Kind: workflows.DeliverAgentMessage, SenderName: "Jane", Text: "Hello", At: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	if _, err := env.ExecuteActivity(workflows.ActivityDeliver, d); err != nil {
		t.Fatal(err)
	}
	if len(sink.got) != 1 || sink.got[0].Text != "Hello" || sink.got[0].ID != "e-1" || !sink.got[0].At.Equal(d.At) {
		t.Fatalf("delivered %+v", sink.got)
	}

	sink.errs = []error{&DeliveryError{Status: 400, Permanent: true, Message: "webhook: 400 Bad Request"}}
	_, err := env.ExecuteActivity(workflows.ActivityDeliver, d)
	assertNonRetryable(t, err, ErrTypeDeliveryRejected)

	sink.errs = []error{&DeliveryError{Status: 429, RetryAfter: 4 * time.Second, Message: "webhook: 429"}}
	_, err = env.ExecuteActivity(workflows.ActivityDeliver, d)
	assertRetryable(t, err, ErrTypeDeliveryFailed, 4*time.Second)

	sink.errs = []error{errors.New("disk full")}
	_, err = env.ExecuteActivity(workflows.ActivityDeliver, d)
	assertRetryable(t, err, ErrTypeDeliveryFailed, 0)

	_, err = env.ExecuteActivity(workflows.ActivityDeliver, workflows.Delivery{Text: "no id"})
	assertNonRetryable(t, err, ErrTypeInvalidInput)
}

// With a link signer, the delivered attachment link is signed and expiring;
// the delivery the workflow passed in keeps the plain URL.
func TestDeliverToUserSignsAttachmentLinks(t *testing.T) {
	a, _, env := testActivities(t)
	sink := &recordingSink{}
	a.Sink = sink
	links, err := attachstore.NewLinkSigner("0123456789abcdef0123456789abcdef-links", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	a.Links = links
	sum := strings.Repeat("ab", 32)
	plain := "https://bridge.example/v1/attachments/" + sum
	d := workflows.Delivery{ID: "e-file", SessionID: "s", UserID: "u", Kind: workflows.DeliverAgentMessage,
		Attachment: &workflows.AttachmentRef{Name: "a.pdf", SHA256: sum, URL: plain}}
	if _, err := env.ExecuteActivity(workflows.ActivityDeliver, d); err != nil {
		t.Fatal(err)
	}
	got, err := url.Parse(sink.got[0].Attachment.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := got.Query()
	if !strings.HasPrefix(sink.got[0].Attachment.URL, plain+"?") || links.Verify(sum, q.Get("expires"), q.Get("sig")) != nil {
		t.Fatalf("delivered link %q is not a valid signed link to %s", sink.got[0].Attachment.URL, plain)
	}
	if d.Attachment.URL != plain {
		t.Fatalf("the input delivery was changed: %q", d.Attachment.URL)
	}
}
