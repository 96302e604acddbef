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
	InactiveEndedMessage = inactiveEndedMessage

	ChangeTransferTimeout   = changeTransferTimeout
	ChangeRoutingFailedEnds = changeRoutingFailedEnds
	ChangeInactiveEnded     = changeInactiveEnded
)

// SetShardContinueAsNewAfter sets the shard history bound until the test ends.
func SetShardContinueAsNewAfter(t interface{ Cleanup(func()) }, n int) {
	old := shardContinueAsNewAfter
	shardContinueAsNewAfter = n
	t.Cleanup(func() { shardContinueAsNewAfter = old })
}
