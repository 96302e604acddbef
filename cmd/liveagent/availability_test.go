package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/mocks"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// closedSchedule makes every topic closed except one minute a week.
func closedSchedule(t *testing.T) {
	t.Setenv("LIVEAGENT_AVAILABILITY_SOURCE", "schedule")
	t.Setenv("LIVEAGENT_AVAILABILITY_OFFLINE_MESSAGE", "HR is closed.")
	t.Setenv("LIVEAGENT_AVAILABILITY_SCHEDULES", `[{"topics":["*"],"time_zone":"UTC","weekly":{"sun":["03:00-03:01"]}}]`)
}

func TestAvailabilityCommand(t *testing.T) {
	tc := mocks.NewClient(t)
	tc.On("Close").Return()
	code, stdout, stderr := cli(t, tc, "-config", writeConfig(t), "availability", "-topic", "HR")
	assert.Equal(t, 0, code, stderr)
	assert.Equal(t, "HR: available (no known end)\n", stdout)

	closedSchedule(t)
	code, stdout, stderr = cli(t, tc, "-config", writeConfig(t), "availability", "-topic", "HR")
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "HR: offline, next opening ")
	assert.Contains(t, stdout, "HR is closed.\n")

	t.Setenv("LIVEAGENT_LOCALES", `{"fr":{"offline_message":"RH est fermé."}}`)
	code, stdout, stderr = cli(t, tc, "-config", writeConfig(t), "availability", "-topic", "HR", "-locale", "fr-CA")
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "RH est fermé.\n", "the offline message in the locale, fr_CA falling back to fr")

	code, _, stderr = cli(t, tc, "-config", writeConfig(t), "availability", "-topic", "Gardening")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `topic "Gardening" is not configured`)
}

// A start while offline starts nothing and fails with the reason.
func TestStartWhileOffline(t *testing.T) {
	closedSchedule(t)
	tc := mocks.NewClient(t) // no ExecuteWorkflow expected: calling it fails the test
	tc.On("Close").Return()
	tc.On("DescribeWorkflowExecution", mock.Anything, workflows.WorkflowID("u-1"), "").
		Return(nil, serviceerror.NewNotFound("not found"))
	code, _, stderr := cli(t, tc, "-config", writeConfig(t), "start", "-user", "u-1", "-topic", "HR", "-description", "payslip")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `live agents are offline for topic "HR" until `)
}
