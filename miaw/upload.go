package miaw

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Upload results (AttachmentUploadResult.Status).
const (
	UploadCompleted = "Completed"
	UploadPending   = "Pending"
	UploadError     = "Error"
)

// Upload error types Salesforce names (AttachmentUploadResult.ErrorType).
const (
	UploadErrStorageLimitExceeded = "StorageLimitExceeded"
	UploadErrAttachmentTooLarge   = "AttachmentTooLarge"
	UploadErrAttachmentNotFound   = "AttachmentNotFound"
	UploadErrUploadNotEnabled     = "AttachmentUploadNotEnabled"
	UploadErrUploadNotAllowed     = "AttachmentUploadNotAllowed"
	UploadErrInternalServerError  = "InternalServerError"
)

// AttachmentUploadResult is Salesforce's asynchronous verdict on an end
// user's file upload (miaw-api.md §1.8): Completed, Pending (with a
// reference id) or Error (with an error type). Salesforce's SDKs name the
// three cases and the error types; the JSON shape is not documented [?], so
// decoding is lenient: a bare string ("Error"), or an object whose status is
// in "type", "status" or "result", with "errorType" and "referenceId".
type AttachmentUploadResult struct {
	Status      string `json:"type"`
	ErrorType   string `json:"errorType,omitempty"`
	ReferenceID string `json:"referenceId,omitempty"`
}

// Failed reports whether the upload failed for good.
func (r *AttachmentUploadResult) Failed() bool {
	return r != nil && (strings.EqualFold(r.Status, UploadError) || (r.Status == "" && r.ErrorType != ""))
}

// UnmarshalJSON accepts the shapes listed on AttachmentUploadResult.
func (r *AttachmentUploadResult) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &r.Status)
	}
	var raw struct {
		Type        string `json:"type"`
		Status      string `json:"status"`
		Result      string `json:"result"`
		ErrorType   string `json:"errorType"`
		ReferenceID string `json:"referenceId"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*r = AttachmentUploadResult{
		Status:      firstOf(raw.Type, raw.Status, raw.Result),
		ErrorType:   raw.ErrorType,
		ReferenceID: raw.ReferenceID,
	}
	return nil
}

// MessageUpdatedPayload is entryType MessageUpdated: Salesforce changed an
// earlier message, e.g. with the late result of an end user's file upload.
// AbstractMessage is the updated message: its ID is the id the message was
// sent with, its attachments carry their UploadResult. The shape follows the
// Message entry's; that a MessageUpdated carries the whole updated message
// is inferred from Salesforce's SDK type names [I].
type MessageUpdatedPayload struct {
	EntryType       string          `json:"entryType"`
	ID              string          `json:"id"`
	AbstractMessage AbstractMessage `json:"abstractMessage"`
}

// FailedUploads returns the updated message's attachments whose upload
// Salesforce reports as failed.
func (p *MessageUpdatedPayload) FailedUploads() []Attachment {
	if p == nil || p.AbstractMessage.StaticContent == nil {
		return nil
	}
	var failed []Attachment
	for _, a := range p.AbstractMessage.StaticContent.Attachments {
		if a.UploadResult.Failed() {
			failed = append(failed, a)
		}
	}
	return failed
}

func firstOf(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
