package workflows

import (
	"errors"
	"fmt"
	"mime"
	"slices"
	"strings"
	"unicode/utf8"
)

// Limits on ids from outside, so a malformed request cannot bloat history.
const (
	maxUserIDLength    = 255
	maxMessageIDLength = 255
	maxNameLength      = 255
)

// validateRequest checks a session request and its settings. The error names
// the offending field.
func validateRequest(r SessionRequest) error {
	st := r.Settings
	switch {
	case strings.TrimSpace(r.UserID) == "":
		return errors.New("UserID is empty")
	case len(r.UserID) > maxUserIDLength:
		return fmt.Errorf("UserID is %d bytes, the limit is %d", len(r.UserID), maxUserIDLength)
	case len(st.Topics) == 0:
		return errors.New("Settings.Topics is empty")
	case !slices.Contains(st.Topics, r.Topic):
		return fmt.Errorf("Topic %q is not one of the configured topics %q", r.Topic, st.Topics)
	case strings.TrimSpace(r.Description) == "":
		return errors.New("Description is empty")
	case st.MaxMessageBytes <= 0:
		return fmt.Errorf("Settings.MaxMessageBytes must be positive, got %d", st.MaxMessageBytes)
	case len(r.Description) > st.MaxMessageBytes:
		return fmt.Errorf("Description is %d bytes, the limit is %d", len(r.Description), st.MaxMessageBytes)
	case !utf8.ValidString(r.Description):
		return errors.New("Description is not valid UTF-8")
	case st.AcceptTimeout <= 0:
		return fmt.Errorf("Settings.AcceptTimeout must be positive, got %s", st.AcceptTimeout)
	case strings.TrimSpace(st.RoutingUserField) == "":
		return errors.New("Settings.RoutingUserField is empty")
	case strings.TrimSpace(st.RoutingTopicField) == "":
		return errors.New("Settings.RoutingTopicField is empty")
	case st.RoutingUserField == st.RoutingTopicField:
		return fmt.Errorf("Settings.RoutingUserField and RoutingTopicField are both %q", st.RoutingUserField)
	case st.RoutingResultTimeout < 0:
		return fmt.Errorf("Settings.RoutingResultTimeout must not be negative, got %s", st.RoutingResultTimeout)
	case st.IdleTimeout < 0:
		return fmt.Errorf("Settings.IdleTimeout must not be negative, got %s", st.IdleTimeout)
	case st.TransferTimeout < 0:
		return fmt.Errorf("Settings.TransferTimeout must not be negative, got %s", st.TransferTimeout)
	case st.MaxAttachmentBytes <= 0:
		return fmt.Errorf("Settings.MaxAttachmentBytes must be positive, got %d", st.MaxAttachmentBytes)
	case st.ListenerHeartbeatTimeout != 0 && (st.ListenerHeartbeatTimeout < MinListenerHeartbeatTimeout || st.ListenerHeartbeatTimeout > MaxListenerHeartbeatTimeout):
		return fmt.Errorf("Settings.ListenerHeartbeatTimeout must be 0 or between %s and %s, got %s",
			MinListenerHeartbeatTimeout, MaxListenerHeartbeatTimeout, st.ListenerHeartbeatTimeout)
	case st.ListenerShards < 0 || st.ListenerShards > MaxListenerShards:
		return fmt.Errorf("Settings.ListenerShards must be between 0 and %d, got %d", MaxListenerShards, st.ListenerShards)
	}
	return validateHandoff(r)
}

// validateOpen rejects user updates once the session is ending.
func (s *session) validateOpen() error {
	switch {
	case s.phase == phaseClosed:
		return errors.New("session is closed")
	case s.phase == phaseClosing || s.ending == CloseUserClosed:
		return errors.New("session is closing")
	}
	return nil
}

func validateID(id string) error {
	switch {
	case strings.TrimSpace(id) == "":
		return errors.New("message id is empty")
	case len(id) > maxMessageIDLength:
		return fmt.Errorf("message id is %d bytes, the limit is %d", len(id), maxMessageIDLength)
	}
	return nil
}

func (s *session) validateText(field, text string, allowEmpty bool) error {
	switch {
	case !allowEmpty && strings.TrimSpace(text) == "":
		return fmt.Errorf("%s is empty", field)
	case len(text) > s.req.Settings.MaxMessageBytes:
		return fmt.Errorf("%s is %d bytes, the limit is %d", field, len(text), s.req.Settings.MaxMessageBytes)
	case !utf8.ValidString(text):
		return fmt.Errorf("%s is not valid UTF-8", field)
	}
	return nil
}

func (s *session) validateAttachment(a UserAttachment) error {
	st := s.req.Settings
	if err := validateID(a.ID); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(a.Name) == "":
		return errors.New("attachment name is empty")
	case len(a.Name) > maxNameLength:
		return fmt.Errorf("attachment name is %d bytes, the limit is %d", len(a.Name), maxNameLength)
	case a.Size <= 0:
		return fmt.Errorf("attachment size must be positive, got %d", a.Size)
	case a.Size > st.MaxAttachmentBytes:
		return fmt.Errorf("attachment is %d bytes, the limit is %d", a.Size, st.MaxAttachmentBytes)
	case !isSHA256Hex(a.SHA256):
		return errors.New("attachment SHA256 must be 64 lowercase hex digits")
	case strings.TrimSpace(a.MimeType) == "":
		return errors.New("attachment MIME type is empty")
	}
	if len(st.AllowedAttachmentTypes) > 0 {
		mediaType, _, err := mime.ParseMediaType(a.MimeType)
		if err != nil {
			return fmt.Errorf("attachment MIME type %q is malformed: %v", a.MimeType, err)
		}
		if !slices.ContainsFunc(st.AllowedAttachmentTypes, func(t string) bool { return strings.EqualFold(t, mediaType) }) {
			return fmt.Errorf("attachment type %q is not allowed (allowed: %s)", mediaType, strings.Join(st.AllowedAttachmentTypes, ", "))
		}
	}
	return s.validateText("attachment caption", a.Caption, true)
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
