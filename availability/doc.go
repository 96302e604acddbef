// Package availability decides, before any Salesforce conversation is
// created, whether a live agent can be offered to a user for a topic, and
// until when.
//
// It is its own concern, apart from the session workflow and the MIAW
// client, because the decision combines three sources that change on their
// own schedules and must be answered fast and without side effects: the
// deployment's business hours as Salesforce reports them (the
// embedded-service business-hours endpoint, read through package miaw), an
// optional weekly schedule per topic from configuration (time-zone aware,
// with holidays), and an "always available" override. The assistant asks
// before offering a human (GET /v1/availability on the gateway,
// starter.Client.Availability); the starter asks again before it starts a
// session, refuses to start one while agents are offline, and hands the end
// of the current open window to the workflow (SessionRequest.AvailableUntil),
// which closes a session still waiting for an agent at that moment.
//
// # The decision
//
// Decide is a pure function of a clock reading, Salesforce's windows and a
// topic's Schedule: agents are available at now when every source that
// applies says open. Its Decision carries AvailableUntil, the end of the
// current open window (the intersection of the sources' windows, with
// touching windows merged, so a 24/7 week has no end), and NextOpen, the start
// of the next window when closed. Either is zero when unknown: no known end,
// or no opening within the data at hand (Salesforce's windows cover a finite
// span; schedules are searched a year ahead).
//
// Sources (Source):
//
//   - SourceAlways: always available, with no known end. Schedules are
//     ignored, so switching to it is an override that keeps them in place.
//   - SourceSalesforce: Salesforce's business hours decide; a topic with a
//     schedule is available only when both say open.
//   - SourceSchedule: the topic's schedule decides (a topic without one is
//     unrestricted; configuration refuses that for this source).
//
// The per-topic override: a schedule made with ScheduleSpec.Always (YAML
// `always: true` on an availability.schedules entry) has no hours and is
// open at all times. Its topics are available with every source, with no
// known end, whatever Salesforce's business hours say (it is not asked for
// them): the "always" source for just those topics, e.g. an IT-outage
// topic staffed around the clock while the rest follow the business hours.
// It takes no weekly ranges or holidays (ParseSchedule refuses them rather
// than ignore them). As the AnyTopic entry it covers every topic without an
// entry of its own.
//
// Salesforce's answer (miaw.BusinessHours) reads as: no businessHoursInfo at
// all means the deployment has no business hours, open at all times; an
// inactive record (isActive false) means closed, as Salesforce's own mobile
// SDK treats it; otherwise open exactly within the listed windows.
//
// # Schedules
//
// A Schedule is a time zone (IANA name), opening ranges per weekday in wall
// clock time ("09:00-17:00"; "22:00-06:00" runs past midnight into the next
// day; "00:00-24:00" is the whole day) and holidays: local calendar dates on
// which it is closed from midnight to midnight, whatever the weekly ranges
// say (a night range starting the evening before is cut at midnight). Wall
// times follow daylight saving time: a range is eight wall-clock hours on the
// 23- and the 25-hour day alike. A time that does not exist (a spring-forward
// gap) is read with the offset before the change, i.e. shifted forward by the
// gap (RFC 5545): 02:30 becomes 03:30. A time that occurs twice (fall-back)
// means its first occurrence.
//
// # Caching and failures
//
// A Checker answers per topic. It asks Salesforce at most once per CacheTTL
// (concurrent checks share one request) and keeps the windows, not the
// verdict, so a cached answer still closes on time. When Salesforce's
// endpoint fails or times out (FetchTimeout) the checker fails open: it
// treats the business hours as unknown (available, no known end, a topic
// schedule still applies), logs a warning and counts the failure
// (Stats.Failures); the failure is cached like an answer, so an outage of
// that endpoint never blocks users and is not hammered either.
package availability
