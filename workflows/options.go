package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Activity timeouts and retry policies. Permanent failures are reported by the
// activities as non-retryable application errors, so every policy here only
// bounds how long transient failures (network, 5xx, 429) are retried.
const (
	// listenerAttemptTimeout bounds one listener attempt; a new attempt resumes
	// from the heartbeated cursor, so this only caps a silently stuck stream.
	listenerAttemptTimeout = 2 * time.Hour
	// deliveryRetryWindow bounds the retries of one local delivery: in
	// effect forever, as for the delivery activity, which has no bound.
	deliveryRetryWindow = 365 * 24 * time.Hour
)

// ActivityHeartbeatTimeout is the heartbeat timeout of the session's short
// activities (Salesforce calls, downloads, deliveries, presence). They do
// not heartbeat themselves: the worker heartbeats each attempt while it runs
// (activities.KeepAlive), so an attempt whose worker died is retried within
// this long, not at its StartToCloseTimeout (30 s for a Salesforce call,
// 2 min for a download). An attempt that ends within half of it records no
// heartbeat.
const ActivityHeartbeatTimeout = 10 * time.Second

func retryPolicy(maxInterval time.Duration) *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    maxInterval,
	}
}

// salesforceOptions is for the short Salesforce calls (create, send, end).
func salesforceOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              TaskQueue,
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:       ActivityHeartbeatTimeout,
		RetryPolicy:            retryPolicy(30 * time.Second),
		Summary:                summary,
	})
}

// localSalesforceOptions is salesforceOptions for a Salesforce call run as a
// local activity (same attempt and total timeouts, same retries).
func localSalesforceOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 5 * time.Minute,
		RetryPolicy:            retryPolicy(30 * time.Second),
	})
}

// deliveryOptions is for ActivityDeliver (webhook to the assistant). A
// delivery is retried until it succeeds or the assistant refuses it
// permanently (a non-retryable error): an assistant outage delays what the
// user sees, in order, but never drops it.
func deliveryOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           TaskQueue,
		StartToCloseTimeout: 15 * time.Second,
		HeartbeatTimeout:    ActivityHeartbeatTimeout,
		RetryPolicy:         retryPolicy(time.Minute),
		Summary:             summary,
	})
}

// localDeliveryOptions is deliveryOptions for ActivityDeliver run as a
// local activity: the same attempt timeout and unbounded retries (the SDK
// turns long backoffs into workflow timers, so an assistant outage costs a
// timer per retry, not a busy workflow task).
func localDeliveryOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		// Unset, it would default to StartToCloseTimeout: one attempt's worth.
		ScheduleToCloseTimeout: deliveryRetryWindow,
		StartToCloseTimeout:    15 * time.Second,
		RetryPolicy:            retryPolicy(time.Minute),
	})
}

// downloadOptions is for ActivityDownloadAttachment.
func downloadOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              TaskQueue,
		StartToCloseTimeout:    2 * time.Minute,
		ScheduleToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:       ActivityHeartbeatTimeout,
		RetryPolicy:            retryPolicy(30 * time.Second),
		Summary:                "download agent attachment",
	})
}

// listenerOptions is for the long-running SSE listener: it heartbeats
// (heartbeatTimeout, 0 = DefaultListenerHeartbeatTimeout), is retried forever
// with backoff capped at 30s (resuming from its cursor), and the workflow
// waits for it to acknowledge cancellation when it waits at all.
func listenerOptions(ctx workflow.Context, heartbeatTimeout time.Duration) workflow.Context {
	if heartbeatTimeout <= 0 {
		heartbeatTimeout = DefaultListenerHeartbeatTimeout
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           ListenerTaskQueue,
		StartToCloseTimeout: listenerAttemptTimeout,
		HeartbeatTimeout:    heartbeatTimeout,
		WaitForCancellation: true,
		RetryPolicy:         retryPolicy(30 * time.Second),
		Summary:             "listen to Salesforce events",
	})
}
