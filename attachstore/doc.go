// Package attachstore is the content-addressed store for chat attachments, in
// a local directory.
//
// Files are kept under their SHA-256 (lowercase hex) in a two-level fan-out
// (dir/ab/cd/abcd…) so no directory grows too large. A put streams the content
// to a temporary file in the store, enforcing a size cap while copying, and
// renames it into place, so readers never see a partial file and putting the
// same content twice stores it once. Workflow history only ever carries the
// hash and metadata (workflows.AttachmentRef, workflows.UserAttachment), never
// bytes.
//
// SanitizeFilename turns an untrusted file name (from a user or from
// Salesforce) into a safe base name for display and upload.
package attachstore
