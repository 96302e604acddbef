package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Guest mode is refused at start with one line that says why: Salesforce
// cannot renew a guest's token for the same anonymous user, so its chats
// would break mid-session.
func TestGuestModeIsRefusedWithTheReason(t *testing.T) {
	c := validConfig(t)
	c.Salesforce.AuthMode = AuthGuest
	c.Salesforce.PrivateKeyFile, c.Salesforce.KeyID, c.Salesforce.Issuer = "", "", ""
	err := c.Validate()
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "salesforce.auth_mode", fe.Key)
	assert.Contains(t, fe.Reason, "guest is not supported")
	assert.Contains(t, fe.Reason, "continuation token keeps its expiry")
	assert.Contains(t, fe.Reason, "use verified")
	assert.NotContains(t, err.Error(), "\n")

	t.Setenv("LIVEAGENT_SALESFORCE_AUTH_MODE", "guest")
	_, err = Load(writeSample(t))
	require.ErrorAs(t, err, &fe, "from a file or the environment alike")
	assert.Equal(t, "salesforce.auth_mode", fe.Key)
	assert.True(t, strings.HasPrefix(err.Error(), "config: salesforce.auth_mode: guest is not supported"))
}
