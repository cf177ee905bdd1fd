package domain_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dealreg/dealreg/domain"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

var limits = domain.AppendLimits{MaxEvents: 3, MaxEventBytes: 64, MaxStreamName: 10, MaxEventType: 8}

func TestCanonicalAppend(t *testing.T) {
	t.Run("Canonical", func(t *testing.T) {
		in := []domain.EventData{{ID: uuid.New(), Type: "E", SchemaVersion: 1, Data: json.RawMessage(" { \"a\" : [1, 2] }\n")}}
		out, fields := domain.CanonicalAppend("s", in, limits)
		require.Empty(t, fields)
		require.Equal(t, `{"a":[1,2]}`, string(out[0].Data))
		require.Equal(t, `{}`, string(out[0].Metadata), "empty metadata is stored as {}")
		require.Equal(t, " { \"a\" : [1, 2] }\n", string(in[0].Data), "the caller's events are not changed")
	})
	t.Run("EveryFieldAtOnce", func(t *testing.T) {
		id := uuid.New()
		in := []domain.EventData{
			{ID: id, Type: "", SchemaVersion: 0, Data: json.RawMessage(`{`), Metadata: json.RawMessage(`[`)},
			{ID: id, Type: "TooLongType", SchemaVersion: 1, Data: json.RawMessage(`"` + strings.Repeat("x", 80) + `"`)},
			{ID: uuid.Nil, Type: "E", SchemaVersion: 1, Data: json.RawMessage(`1`)},
			{ID: uuid.New(), Type: "E", SchemaVersion: 1, Data: json.RawMessage(`1`)},
		}
		_, fields := domain.CanonicalAppend("a-stream-name-too-long", in, limits)
		var got []string
		for _, f := range fields {
			got = append(got, f.Field+":"+f.Code)
		}
		require.Equal(t, []string{
			"stream:too_long", "events:too_long",
			"events[0].type:required", "events[0].schema_version:out_of_range", "events[0].data:invalid", "events[0].metadata:invalid",
			"events[1].id:duplicate", "events[1].type:too_long", "events[1].data:too_long",
			"events[2].id:required",
		}, got)
		err := domain.InvalidAppend(fields)
		require.Equal(t, domain.EINVALID, domain.ErrorCode(err))
		require.NoError(t, domain.InvalidAppend(nil))
	})
}
