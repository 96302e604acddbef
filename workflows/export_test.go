package workflows

// Internals the external tests (package workflows_test) check against.
var (
	MIAWMessageID = miawMessageID
	IsLowerUUID   = isLowerUUID
)

const (
	DescriptionMessageID = descriptionMessageID
	MaxOutbox            = maxOutbox
	RoutingFailedMessage = routingFailedMessage
	FailedMessage        = failedMessage
)
