package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWaitTextPicksTheSettingForTheDuration(t *testing.T) {
	var builtin Settings
	require.Equal(t, "An agent will be with you in less than a minute.", builtin.waitText(20*time.Second))
	require.Equal(t, "An agent will be with you in about 1 minute.", builtin.waitText(70*time.Second))
	require.Equal(t, "An agent will be with you in about 4 minutes.", builtin.waitText(4*time.Minute))

	fr := Settings{
		WaitUnderAMinuteMessage: "Moins d'une minute.",
		WaitOneMinuteMessage:    "Environ une minute.",
		WaitMessage:             "Environ {minutes} minutes.",
	}
	require.Equal(t, "Moins d'une minute.", fr.waitText(20*time.Second))
	require.Equal(t, "Environ une minute.", fr.waitText(70*time.Second))
	require.Equal(t, "Environ 4 minutes.", fr.waitText(4*time.Minute))
}

func TestAgentJoinedTextNamesAnUnknownAgent(t *testing.T) {
	require.Equal(t, "You are now chatting with another agent.", Settings{}.agentJoinedText(""))
	fr := Settings{AgentJoinedMessage: "Vous discutez avec {agent}.", UnnamedAgent: "un autre conseiller"}
	require.Equal(t, "Vous discutez avec un autre conseiller.", fr.agentJoinedText(""))
	require.Equal(t, "Vous discutez avec Bob.", fr.agentJoinedText("Bob"))
}

func TestFileTextFillsTheName(t *testing.T) {
	require.Equal(t, `Sorry, your file "a.pdf" is too large for the agent's chat; it was not delivered.`,
		fileText("", fileTooLargeFormat, "a.pdf"))
	require.Equal(t, "Le fichier a.pdf est trop gros.", fileText("Le fichier {file} est trop gros.", fileTooLargeFormat, "a.pdf"))
}
