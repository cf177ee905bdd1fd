package kurrentdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/dealreg/dealreg/domain"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestExpectedRevision(t *testing.T) {
	for _, tc := range []struct {
		in   domain.ExpectedRevision
		want esdb.ExpectedRevision
	}{
		{domain.Any(), esdb.Any{}},
		{domain.ExpectedRevision{}, esdb.Any{}},
		{domain.NoStream(), esdb.NoStream{}},
		{domain.StreamExists(), esdb.StreamExists{}},
		{domain.Exact(0), esdb.Revision(0)},
		{domain.Exact(41), esdb.Revision(41)},
		{domain.Exact(math.MaxUint64 - 1), esdb.Revision(math.MaxUint64 - 1)},
	} {
		t.Run(tc.in.String(), func(t *testing.T) {
			require.Equal(t, tc.want, expectedRevision(tc.in))
		})
	}
}

func TestMetadataRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name       string
		version    int
		meta       json.RawMessage
		wantStored string
		wantMeta   string
	}{
		{"Object", 3, json.RawMessage(`{"actor":"u1","role":"partner"}`),
			`{"schema_version":3,"meta":{"actor":"u1","role":"partner"}}`, `{"actor":"u1","role":"partner"}`},
		{"Nil", 1, nil, `{"schema_version":1,"meta":{}}`, `{}`},
		{"Empty", 1, json.RawMessage{}, `{"schema_version":1,"meta":{}}`, `{}`},
		{"EmptyObject", 2, json.RawMessage(`{}`), `{"schema_version":2,"meta":{}}`, `{}`},
		{"Compacted", 1, json.RawMessage(" {\n \"a\" : [1, 2] }\n"), `{"schema_version":1,"meta":{"a":[1,2]}}`, `{"a":[1,2]}`},
		{"NoHTMLEscaping", 1, json.RawMessage(`{"note":"<b>&amp;</b> Telefónica"}`),
			`{"schema_version":1,"meta":{"note":"<b>&amp;</b> Telefónica"}}`, `{"note":"<b>&amp;</b> Telefónica"}`},
		{"ClashingKeys", 7, json.RawMessage(`{"schema_version":99,"meta":"inner"}`),
			`{"schema_version":7,"meta":{"schema_version":99,"meta":"inner"}}`, `{"schema_version":99,"meta":"inner"}`},
		{"Array", 1, json.RawMessage(`[1,"two"]`), `{"schema_version":1,"meta":[1,"two"]}`, `[1,"two"]`},
		{"String", 1, json.RawMessage(`"s"`), `{"schema_version":1,"meta":"s"}`, `"s"`},
		{"Null", 1, json.RawMessage(`null`), `{"schema_version":1,"meta":null}`, `null`},
		{"LargeVersion", math.MaxInt32, json.RawMessage(`{}`), fmt.Sprintf(`{"schema_version":%d,"meta":{}}`, math.MaxInt32), `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stored, err := wrapMetadata(tc.version, tc.meta)
			require.NoError(t, err)
			require.Equal(t, tc.wantStored, string(stored))
			require.True(t, json.Valid(stored))

			version, meta, err := unwrapMetadata(stored)
			require.NoError(t, err)
			require.Equal(t, tc.version, version)
			require.Equal(t, tc.wantMeta, string(meta), "canonical metadata comes back byte for byte")

			again, err := wrapMetadata(version, meta)
			require.NoError(t, err)
			require.Equal(t, string(stored), string(again), "wrapping what was unwrapped is stable")
		})
	}
}

func TestWrapMetadataRejects(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version int
		meta    string
	}{
		{"Truncated", 1, `{"actor":`},
		{"NotJSON", 1, `actor=u1`},
		{"TwoValues", 1, `{} {}`},
		{"TrailingComma", 1, `{"a":1,}`},
		{"InvalidUTF8Escape", 1, `{"a":"\x"}`},
		{"ZeroVersion", 0, `{}`},
		{"NegativeVersion", -2, `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stored, err := wrapMetadata(tc.version, json.RawMessage(tc.meta))
			require.Error(t, err)
			require.Nil(t, stored)
		})
	}
}

func TestUnwrapMetadataForeign(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stored []byte
	}{
		{"Nil", nil},
		{"Empty", []byte{}},
		{"NotJSON", []byte(`actor=u1`)},
		{"Truncated", []byte(`{"schema_version":1,"meta":{`)},
		{"PlainMetadata", []byte(`{"actor":"u1","$correlationId":"c"}`)},
		{"EmptyObject", []byte(`{}`)},
		{"NoMeta", []byte(`{"schema_version":2}`)},
		{"NoVersion", []byte(`{"meta":{}}`)},
		{"ZeroVersion", []byte(`{"schema_version":0,"meta":{}}`)},
		{"VersionNotNumber", []byte(`{"schema_version":"1","meta":{}}`)},
		{"Array", []byte(`[{"schema_version":1,"meta":{}}]`)},
		{"Binary", []byte{0x00, 0xff, 0x10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := unwrapMetadata(tc.stored)
			require.ErrorIs(t, err, errNotDealreg)
		})
	}
}

func validEvent() domain.EventData {
	return domain.EventData{
		ID:            uuid.New(),
		Type:          "RegistrationSubmitted",
		SchemaVersion: 2,
		Data:          json.RawMessage(`{ "company" : "Telefónica", "value": "150000.00" }`),
		Metadata:      json.RawMessage(`{"actor":"u1"}`),
	}
}

func TestEventData(t *testing.T) {
	in := validEvent()
	out, err := eventData("registration-1", []domain.EventData{in})
	require.NoError(t, err)
	require.Equal(t, []esdb.EventData{{
		EventID:     in.ID,
		EventType:   "RegistrationSubmitted",
		ContentType: esdb.ContentTypeJson,
		Data:        []byte(`{"company":"Telefónica","value":"150000.00"}`),
		Metadata:    []byte(`{"schema_version":2,"meta":{"actor":"u1"}}`),
	}}, out)
}

func TestEventDataInvalid(t *testing.T) {
	ev := func(change func(*domain.EventData)) domain.EventData {
		e := validEvent()
		change(&e)
		return e
	}
	twice := validEvent()
	for _, tc := range []struct {
		name   string
		stream string
		events []domain.EventData
		fields []string
	}{
		{"EmptyStream", "", []domain.EventData{validEvent()}, []string{"stream"}},
		{"SystemStream", "$all", []domain.EventData{validEvent()}, []string{"stream"}},
		{"LongStream", string(make([]byte, appendLimits.MaxStreamName+1)), []domain.EventData{validEvent()}, []string{"stream"}},
		{"NoEvents", "s", nil, []string{"events"}},
		{"NilID", "s", []domain.EventData{ev(func(e *domain.EventData) { e.ID = uuid.Nil })}, []string{"events[0].id"}},
		{"IDTwice", "s", []domain.EventData{twice, validEvent(), twice}, []string{"events[2].id"}},
		{"NoType", "s", []domain.EventData{ev(func(e *domain.EventData) { e.Type = "" })}, []string{"events[0].type"}},
		{"SystemType", "s", []domain.EventData{ev(func(e *domain.EventData) { e.Type = "$metadata" })}, []string{"events[0].type"}},
		{"ZeroSchemaVersion", "s", []domain.EventData{ev(func(e *domain.EventData) { e.SchemaVersion = 0 })}, []string{"events[0].schema_version"}},
		{"BadData", "s", []domain.EventData{ev(func(e *domain.EventData) { e.Data = json.RawMessage(`{"n":`) })}, []string{"events[0].data"}},
		{"NilData", "s", []domain.EventData{ev(func(e *domain.EventData) { e.Data = nil })}, []string{"events[0].data"}},
		{"BadMetadata", "s", []domain.EventData{ev(func(e *domain.EventData) { e.Metadata = json.RawMessage(`nope`) })}, []string{"events[0].metadata"}},
		{"TooLarge", "s", []domain.EventData{ev(func(e *domain.EventData) {
			e.Data = json.RawMessage(`"` + string(make([]byte, appendLimits.MaxEventBytes)) + `"`)
			for i := 1; i < len(e.Data)-1; i++ {
				e.Data[i] = 'x'
			}
		})}, []string{"events[0].data"}},
		{"Several", "", []domain.EventData{ev(func(e *domain.EventData) { e.Type, e.SchemaVersion = "", -1 })},
			[]string{"stream", "events[0].type", "events[0].schema_version"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := eventData(tc.stream, tc.events)
			require.Nil(t, out)
			require.Equal(t, domain.EINVALID, domain.ErrorCode(err), "%v", err)
			var got []string
			for _, f := range domain.ErrorFields(err) {
				got = append(got, f.Field)
			}
			require.Equal(t, tc.fields, got)
		})
	}
}

func TestRecordedEventRoundTrip(t *testing.T) {
	in := validEvent()
	proposed, err := eventData("registration-7", []domain.EventData{in})
	require.NoError(t, err)
	// What the server hands back for the proposed event.
	created := time.Date(2025, 3, 1, 10, 30, 0, 123456700, time.FixedZone("CET", 3600))
	stored := &esdb.RecordedEvent{
		EventID:      proposed[0].EventID,
		EventType:    proposed[0].EventType,
		ContentType:  "application/json",
		StreamID:     "registration-7",
		EventNumber:  4,
		Position:     esdb.Position{Commit: 18_446, Prepare: 18_446},
		CreatedDate:  created,
		Data:         proposed[0].Data,
		UserMetadata: proposed[0].Metadata,
	}
	got, err := recordedEvent(stored)
	require.NoError(t, err)
	require.Equal(t, domain.RecordedEvent{
		ID:            in.ID,
		Stream:        "registration-7",
		Revision:      4,
		Position:      18_446,
		Type:          in.Type,
		SchemaVersion: 2,
		Data:          json.RawMessage(`{"company":"Telefónica","value":"150000.00"}`),
		Metadata:      json.RawMessage(`{"actor":"u1"}`),
		RecordedAt:    created.UTC(),
	}, got)
	require.Equal(t, time.UTC, got.RecordedAt.Location())
	require.True(t, got.RecordedAt.Equal(created))

	e, ok, err := ledgerEvent(&esdb.ResolvedEvent{Event: stored})
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, got, e)
}

func TestRecordedEventRejects(t *testing.T) {
	base := esdb.RecordedEvent{
		EventID:      uuid.New(),
		EventType:    "E",
		StreamID:     "s",
		Position:     esdb.Position{Commit: 10, Prepare: 10},
		Data:         []byte(`{}`),
		UserMetadata: []byte(`{"schema_version":1,"meta":{}}`),
	}
	foreign := base
	foreign.UserMetadata = []byte(`{"actor":"someone else"}`)
	_, err := recordedEvent(&foreign)
	require.ErrorIs(t, err, errNotDealreg)

	old := base
	old.Position = esdb.Position{Commit: noPosition, Prepare: noPosition}
	_, err = recordedEvent(&old)
	require.ErrorContains(t, err, "22.6")
	require.NotErrorIs(t, err, errNotDealreg)
}

func TestLedgerEventSkips(t *testing.T) {
	ours := esdb.RecordedEvent{
		EventID:      uuid.New(),
		EventType:    "E",
		StreamID:     "partner-1",
		Position:     esdb.Position{Commit: 10, Prepare: 10},
		Data:         []byte(`{}`),
		UserMetadata: []byte(`{"schema_version":1,"meta":{}}`),
	}
	with := func(change func(*esdb.RecordedEvent)) *esdb.RecordedEvent {
		e := ours
		change(&e)
		return &e
	}
	for _, tc := range []struct {
		name    string
		event   *esdb.RecordedEvent
		want    bool
		wantErr bool
	}{
		{"Ours", &ours, true, false},
		{"Missing", nil, false, false},
		{"SystemType", with(func(e *esdb.RecordedEvent) { e.EventType = "$metadata" }), false, false},
		{"SystemStream", with(func(e *esdb.RecordedEvent) { e.StreamID = "$users" }), false, false},
		{"StreamMetadata", with(func(e *esdb.RecordedEvent) { e.StreamID = "$$partner-1" }), false, false},
		{"Link", with(func(e *esdb.RecordedEvent) { e.EventType = "$>" }), false, false},
		{"OtherApplication", with(func(e *esdb.RecordedEvent) { e.UserMetadata = []byte(`{"user":"x"}`) }), false, false},
		{"NoPosition", with(func(e *esdb.RecordedEvent) { e.Position.Commit = noPosition }), false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ok, err := ledgerEvent(&esdb.ResolvedEvent{Event: tc.event})
			require.Equal(t, tc.wantErr, err != nil, "%v", err)
			require.Equal(t, tc.want, ok)
			if ok {
				require.Equal(t, tc.event.EventID, e.ID)
			}
		})
	}
}

// clientWrongVersion is the message esdb v4 (client.go, AppendToStream) puts
// in its ErrorCodeWrongExpectedVersion error.
func clientWrongVersion(expected, current string) string {
	return fmt.Errorf("wrong expected version: expecting '%s' but got '%s'", expected, current).Error()
}

func TestWrongRevision(t *testing.T) {
	for _, tc := range []struct {
		name       string
		expected   domain.ExpectedRevision
		msg        string
		ok         bool
		actual     uint64
		exists     bool
		wantString string
	}{
		{"NoStreamButExists", domain.NoStream(), clientWrongVersion("no_stream", "0"), true, 0, true,
			`wrong expected revision for stream "s": expected no stream, stream is at revision 0`},
		{"ExactButMissing", domain.Exact(0), clientWrongVersion("0", "no_stream"), true, 0, false,
			`wrong expected revision for stream "s": expected revision 0, stream is at no stream`},
		{"ExactBehind", domain.Exact(1), clientWrongVersion("1", "2"), true, 2, true,
			`wrong expected revision for stream "s": expected revision 1, stream is at revision 2`},
		{"StreamExistsButMissing", domain.StreamExists(), clientWrongVersion("stream_exists", "no_stream"), true, 0, false,
			`wrong expected revision for stream "s": expected stream exists, stream is at no stream`},
		{"Large", domain.Exact(7), clientWrongVersion("7", "9007199254740993"), true, 9007199254740993, true,
			`wrong expected revision for stream "s": expected revision 7, stream is at revision 9007199254740993`},
		{"NoActual", domain.Exact(1), "wrong expected version", false, 0, false, ""},
		{"Garbage", domain.Exact(1), clientWrongVersion("1", "-1"), false, 0, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, ok := wrongRevision("s", tc.expected, tc.msg)
			require.Equal(t, tc.ok, ok)
			if !ok {
				require.Nil(t, w)
				return
			}
			require.Equal(t, &domain.WrongExpectedRevisionError{Stream: "s", Expected: tc.expected, Actual: tc.actual, ActualExists: tc.exists}, w)
			require.Equal(t, tc.wantString, w.Error())
			require.Equal(t, domain.ECONFLICT, domain.ErrorCode(w))
		})
	}
}

func TestMapCode(t *testing.T) {
	cause := errors.New("rpc error: code = Unknown desc = boom")
	for _, tc := range []struct {
		code     esdb.ErrorCode
		sentinel error
		domain   string
	}{
		{esdb.ErrorCodeResourceNotFound, domain.ErrStreamNotFound, domain.ENOTFOUND},
		{esdb.ErrorCodeStreamDeleted, domain.ErrStreamNotFound, domain.ENOTFOUND},
		{esdb.ErrorCodeConnectionClosed, domain.ErrClosed, domain.EUNAVAILABLE},
		{esdb.ErrorCodeUnknown, cause, domain.EINTERNAL},
		{esdb.ErrorUnavailable, cause, domain.EINTERNAL},
		{esdb.ErrorCodeAccessDenied, cause, domain.EINTERNAL},
		{esdb.ErrorCodeNotLeader, cause, domain.EINTERNAL},
	} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			err := mapCode(tc.code, cause)
			require.ErrorIs(t, err, tc.sentinel)
			require.Equal(t, tc.domain, domain.ErrorCode(err))
		})
	}
}

// closedClient returns a client that has been closed: its calls fail at once
// with the client's own ErrorCodeConnectionClosed, without any network.
func closedClient(t *testing.T) *esdb.Client {
	t.Helper()
	conf, err := esdb.ParseConnectionString("esdb://127.0.0.1:1?tls=false")
	require.NoError(t, err)
	conf.Logger = esdb.NoopLogging()
	client, err := esdb.NewClient(conf)
	require.NoError(t, err)
	require.NoError(t, client.Close())
	return client
}

func TestTranslateClientErrors(t *testing.T) {
	require.NoError(t, translate(nil))

	_, err := closedClient(t).AppendToStream(context.Background(), "s", esdb.AppendToStreamOptions{}, esdb.EventData{EventID: uuid.New(), EventType: "E"})
	code, ok := esdbCode(err)
	require.True(t, ok)
	require.Equal(t, esdb.ErrorCodeConnectionClosed, code)
	require.ErrorIs(t, translate(err), domain.ErrClosed)
	require.ErrorIs(t, translate(fmt.Errorf("could not send append request. Reason: %w", err)), domain.ErrClosed,
		"client errors wrapped by the client are still recognised")

	plain := errors.New("plain")
	require.ErrorIs(t, translate(plain), plain)
	require.Equal(t, domain.EINTERNAL, domain.ErrorCode(translate(plain)))
}

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		in   int
		want uint64
	}{{0, math.MaxInt64}, {-3, math.MaxInt64}, {1, 1}, {500, 500}} {
		require.Equal(t, tc.want, count(tc.in), "count(%d)", tc.in)
	}
}

// TestStoreWithoutServer checks what the store decides before any network
// call: validation, and the closed state.
func TestStoreWithoutServer(t *testing.T) {
	s := &Store{client: closedClient(t), done: make(chan struct{}), subs: make(map[*subscription]struct{})}
	ctx := context.Background()

	_, err := s.Append(ctx, "s", domain.Any(), domain.EventData{ID: uuid.New(), Type: "E", SchemaVersion: 1, Data: json.RawMessage(`{`)})
	require.Equal(t, domain.EINVALID, domain.ErrorCode(err), "an invalid append is refused before reaching the server: %v", err)

	_, err = s.Append(ctx, "s", domain.Any(), validEvent())
	require.ErrorIs(t, err, domain.ErrClosed, "a closed client surfaces as ErrClosed")

	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "closing twice is harmless")

	_, err = s.Append(ctx, "s", domain.Any(), validEvent())
	require.ErrorIs(t, err, domain.ErrClosed)
	_, err = s.Append(ctx, "", domain.Any())
	require.ErrorIs(t, err, domain.ErrClosed, "a closed store refuses before validating")
	_, err = s.ReadStream(ctx, "s", domain.ReadStreamOptions{})
	require.ErrorIs(t, err, domain.ErrClosed)
	_, err = s.ReadAll(ctx, domain.ReadAllOptions{})
	require.ErrorIs(t, err, domain.ErrClosed)
	_, err = s.SubscribeAll(ctx, 0)
	require.ErrorIs(t, err, domain.ErrClosed)
}

func TestOpenRejectsBadConnectionString(t *testing.T) {
	for _, cs := range []string{"", "http://localhost:2113", "esdb://localhost:2113?tls=maybe"} {
		t.Run(cs, func(t *testing.T) {
			s, err := Open(context.Background(), cs)
			require.Error(t, err)
			require.Nil(t, s)
		})
	}
}

func TestOpenGivesUpWithContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	applied := false
	start := time.Now()
	s, err := Open(ctx, "esdb://127.0.0.1:1?tls=false&maxDiscoverAttempts=1", func(c *esdb.Configuration) {
		c.Logger = esdb.NoopLogging()
		applied = true
	})
	require.Error(t, err)
	require.Nil(t, s)
	require.True(t, applied, "options are applied to the parsed configuration")
	require.Less(t, time.Since(start), 5*time.Second, "Open returns once ctx is done")
}
