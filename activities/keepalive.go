package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// KeepAlive is a worker interceptor that heartbeats every activity attempt
// scheduled with a heartbeat timeout, every half timeout while it runs,
// unless the activity records heartbeat details itself
// (workflows.HeartbeatsOwnDetails). The session's short activities cannot
// heartbeat while blocked in one request; with their heartbeat timeout
// (workflows.ActivityHeartbeatTimeout) and this, Temporal retries the
// attempt of a worker that died within that timeout instead of at the
// attempt's StartToCloseTimeout. An attempt that ends within half the
// timeout sends no heartbeat, so the common case costs the server nothing.
//
// The heartbeats only prove the worker is alive: a call stuck in a live
// worker is still bounded by its StartToCloseTimeout.
func KeepAlive() interceptor.WorkerInterceptor { return &keepAlive{} }

type keepAlive struct {
	interceptor.WorkerInterceptorBase
}

func (*keepAlive) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &keepAliveInbound{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

type keepAliveInbound struct {
	interceptor.ActivityInboundInterceptorBase
}

func (k *keepAliveInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	if info.IsLocalActivity || info.HeartbeatTimeout <= 0 || workflows.HeartbeatsOwnDetails(info.ActivityType.Name) {
		return k.Next.ExecuteActivity(ctx, in)
	}
	beating, stop := context.WithCancel(ctx) // ends with the attempt
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(info.HeartbeatTimeout / 2)
		defer t.Stop()
		for {
			select {
			case <-beating.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	defer func() {
		stop()
		<-stopped // no heartbeat after the attempt returned
	}()
	return k.Next.ExecuteActivity(ctx, in)
}
