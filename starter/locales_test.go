package starter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/mocks"

	"github.com/liveagent-bridge/liveagent/availability"
	"github.com/liveagent-bridge/liveagent/locales"
	"github.com/liveagent-bridge/liveagent/workflows"
)

func frenchTable() locales.Table {
	return locales.Table{
		"fr":    {"greeting": "Bienvenue !", "timeout_message": "Personne n'est disponible.", "offline_message": "Nous sommes fermés."},
		"fr_CA": {"greeting": "Bienvenue, chez nous !"},
	}
}

// startInput starts a session for locale and returns the workflow input.
func startInput(t *testing.T, c *Client, tc *mocks.Client, locale string) workflows.SessionInput {
	t.Helper()
	wfID := workflows.WorkflowID("u-42")
	tc.On("DescribeWorkflowExecution", mock.Anything, wfID, "").
		Return(nil, serviceerror.NewNotFound("none")).Once()
	var input workflows.SessionInput
	tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, workflows.WorkflowName, mock.Anything).
		Run(func(args mock.Arguments) { input = args.Get(3).(workflows.SessionInput) }).
		Return(runMock(t, wfID, "run-1"), nil).Once()
	_, err := c.Start(context.Background(), StartRequest{UserID: "u-42", Topic: "HR", Description: "payslip", Locale: locale})
	require.NoError(t, err)
	return input
}

// The start resolves the user's texts along the locale's fallback chain and
// sends the locale on normalised; an unknown locale gets the defaults.
func TestStartResolvesTheLocaleTexts(t *testing.T) {
	tc := mocks.NewClient(t)
	base := testSettings()
	base.Greeting = "Welcome!"
	c := New(tc, base, nil, WithLocales(frenchTable()))

	ca := startInput(t, c, tc, "fr-CA")
	assert.Equal(t, "fr_CA", ca.Request.Locale, "normalised for Salesforce")
	assert.Equal(t, "Bienvenue, chez nous !", ca.Request.Settings.Greeting)
	assert.Equal(t, "Personne n'est disponible.", ca.Request.Settings.TimeoutMessage, "fr_CA has none: fr's")
	assert.Equal(t, "Nous sommes fermés.", ca.Request.Settings.OfflineMessage)
	assert.Equal(t, base.Topics, ca.Request.Settings.Topics)

	fr := startInput(t, c, tc, "fr")
	assert.Equal(t, "Bienvenue !", fr.Request.Settings.Greeting)

	de := startInput(t, c, tc, "de_DE.UTF-8")
	assert.Equal(t, "de_DE", de.Request.Locale)
	want := base
	want.OfflineMessage = DefaultOfflineMessage
	assert.Equal(t, want, de.Request.Settings, "an unknown locale falls back silently to the defaults")

	none := startInput(t, c, tc, "")
	assert.Equal(t, "", none.Request.Locale, "the workflow applies the default locale")
	assert.Equal(t, want, none.Request.Settings)
}

// No locale means the configured default locale, whose texts apply too.
func TestStartWithoutLocaleUsesTheDefaultLocaleTexts(t *testing.T) {
	tc := mocks.NewClient(t)
	base := testSettings()
	base.DefaultLocale = "fr_CA"
	c := New(tc, base, nil, WithLocales(frenchTable()))
	in := startInput(t, c, tc, "")
	assert.Equal(t, "Bienvenue, chez nous !", in.Request.Settings.Greeting)
}

func TestMalformedLocaleIsInvalid(t *testing.T) {
	c := New(mocks.NewClient(t), testSettings(), nil, WithLocales(frenchTable()))
	for _, l := range []string{"français", "fr_CA-x", "fr--CA", "12"} {
		_, err := c.Start(context.Background(), StartRequest{UserID: "u-42", Topic: "HR", Description: "payslip", Locale: l})
		require.ErrorIs(t, err, ErrInvalid, l)
		assert.Contains(t, err.Error(), "locale", l)
		_, err = c.AvailabilityIn(context.Background(), "HR", l)
		require.ErrorIs(t, err, ErrInvalid, l)
	}
}

// The offline message, asked for or refusing a start, is the user's.
func TestOfflineMessageInTheUsersLocale(t *testing.T) {
	ch := &fixedChecker{d: availability.Decision{Available: false}}
	tc := mocks.NewClient(t)
	settings := testSettings()
	settings.OfflineMessage = "Closed for today."
	c := New(tc, settings, nil, WithAvailability(ch), WithLocales(frenchTable()))

	a, err := c.AvailabilityIn(context.Background(), "HR", "fr-CA")
	require.NoError(t, err)
	assert.Equal(t, "Nous sommes fermés.", a.OfflineMessage)
	a, err = c.AvailabilityIn(context.Background(), "HR", "it")
	require.NoError(t, err)
	assert.Equal(t, "Closed for today.", a.OfflineMessage)
	a, err = c.Availability(context.Background(), "HR")
	require.NoError(t, err)
	assert.Equal(t, "Closed for today.", a.OfflineMessage)

	tc.On("DescribeWorkflowExecution", mock.Anything, workflows.WorkflowID("u-42"), "").
		Return(nil, serviceerror.NewNotFound("none"))
	_, err = c.Start(context.Background(), StartRequest{UserID: "u-42", Topic: "HR", Description: "payslip", Locale: "fr"})
	var off *OfflineError
	require.ErrorAs(t, err, &off)
	assert.Equal(t, "Nous sommes fermés.", off.Message)
	tc.AssertNotCalled(t, "ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything)
}
