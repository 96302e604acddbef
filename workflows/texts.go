package workflows

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The configurable texts shown while waiting and chatting. Each falls back to
// the built-in English text (details.go) when its setting is empty; the
// built-in ones are rendered exactly as before the settings existed, so a
// session started without them shows the same texts.

// queuePositionText tells the user their place in the queue.
func (st Settings) queuePositionText(position int) string {
	if st.QueuePositionMessage == "" {
		return fmt.Sprintf(queuePositionFormat, position)
	}
	return fill(st.QueuePositionMessage, "{position}", strconv.Itoa(position))
}

// waitText renders Salesforce's estimated wait time for the user.
func (st Settings) waitText(d time.Duration) string {
	if d < time.Minute {
		return orDefault(st.WaitUnderAMinuteMessage, estimatedWaitText(d))
	}
	minutes := int((d + 30*time.Second) / time.Minute)
	if minutes == 1 {
		return orDefault(st.WaitOneMinuteMessage, estimatedWaitText(d))
	}
	if st.WaitMessage == "" {
		return estimatedWaitText(d)
	}
	return fill(st.WaitMessage, "{minutes}", strconv.Itoa(minutes))
}

// agentJoinedText announces the agent now chatting with the user; name ""
// is an agent whose name is unknown.
func (st Settings) agentJoinedText(name string) string {
	if name == "" {
		name = orDefault(st.UnnamedAgent, "another agent")
	}
	if st.AgentJoinedMessage == "" {
		return fmt.Sprintf(agentJoinedFormat, name)
	}
	return fill(st.AgentJoinedMessage, "{agent}", name)
}

// fileText renders a notice about the file name: the setting when set, else
// the built-in format.
func fileText(setting, builtin, name string) string {
	if setting == "" {
		return fmt.Sprintf(builtin, name)
	}
	return fill(setting, "{file}", name)
}

// fill replaces every placeholder in text with value.
func fill(text, placeholder, value string) string {
	return strings.ReplaceAll(text, placeholder, value)
}
