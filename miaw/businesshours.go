package miaw

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// epBusinessHours is the unauthenticated business-hours endpoint
// (docs/miaw-api.md §1.18).
const epBusinessHours = "/embeddedservice/v1/businesshours"

// BusinessHours is the deployment's business hours as Salesforce answers
// them. Salesforce's mobile SDK reads the same answer as "within business
// hours" when Active and the time is in one of Windows.
type BusinessHours struct {
	// Configured is false when the answer had no businessHoursInfo: the
	// deployment has no business hours (docs/miaw-api.md §1.18, inferred).
	Configured bool
	// Name is the business-hours record's name.
	Name string
	// Active is isActive; an answer without it counts as active.
	Active bool
	// Windows are the open windows listed, in the order given.
	Windows []TimeWindow
}

// TimeWindow is one open window: Start inclusive, End exclusive.
type TimeWindow struct {
	Start, End time.Time
}

// businessHoursResponse is the wire shape of GET /embeddedservice/v1/businesshours:
// {"businessHoursInfo":{"name","isActive","businessHours":[{"startTime","endTime"}]}}
// with times in epoch milliseconds.
type businessHoursResponse struct {
	BusinessHoursInfo *struct {
		Name          string `json:"name"`
		IsActive      *bool  `json:"isActive"`
		BusinessHours []struct {
			StartTime int64 `json:"startTime"`
			EndTime   int64 `json:"endTime"`
		} `json:"businessHours"`
	} `json:"businessHoursInfo"`
}

// BusinessHours reads the deployment's business hours. The endpoint is
// unauthenticated: no access token is minted. Windows whose end is not after
// their start are dropped.
func (c *Client) BusinessHours(ctx context.Context) (*BusinessHours, error) {
	const op = "business hours"
	var out businessHoursResponse
	err := c.send(ctx, op, "", call{
		method: http.MethodGet, endpoint: epBusinessHours, path: epBusinessHours,
		query: url.Values{"orgId": {c.orgID}, "esConfigName": {c.cfg.DeploymentName}},
	}, &out)
	if err != nil {
		return nil, err
	}
	info := out.BusinessHoursInfo
	if info == nil {
		return &BusinessHours{}, nil
	}
	bh := &BusinessHours{Configured: true, Name: info.Name, Active: info.IsActive == nil || *info.IsActive}
	for _, w := range info.BusinessHours {
		if w.EndTime > w.StartTime {
			bh.Windows = append(bh.Windows, TimeWindow{Start: time.UnixMilli(w.StartTime), End: time.UnixMilli(w.EndTime)})
		}
	}
	return bh, nil
}
