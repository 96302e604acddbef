package workflows

import "testing"

// A late upload failure is told with the text for Salesforce's reason: too
// large and not allowed have their own (configurable) texts, every other
// reason the general one; configured texts fill in {file}.
func TestUploadFailedNotice(t *testing.T) {
	tests := []struct {
		st        Settings
		errorType string
		want      string
	}{
		{Settings{}, "AttachmentTooLarge", `Sorry, your file "a.pdf" is too large for the agent's chat; it was not delivered.`},
		{Settings{}, "AttachmentUploadNotAllowed", `Sorry, the agent's chat does not accept files like "a.pdf"; it was not delivered.`},
		{Settings{}, "StorageLimitExceeded", `Sorry, your file "a.pdf" did not reach the agent after all.`},
		{Settings{}, "Unknown", `Sorry, your file "a.pdf" did not reach the agent after all.`},
		{Settings{FileUploadFailedMessage: "Le fichier {file} n'est pas arrivé."}, "InternalServerError", "Le fichier a.pdf n'est pas arrivé."},
	}
	for _, tt := range tests {
		if got := uploadFailedNotice(tt.st, tt.errorType, "a.pdf"); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.errorType, got, tt.want)
		}
	}
}
