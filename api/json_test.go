package api

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	stdjson "encoding/json"

	goccy "github.com/goccy/go-json"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
	"github.com/dealreg/dealreg/projections"
)

// TestMain makes every response of this package's tests be encoded by
// both encoders and refused where they differ (see checkEncoders).
func TestMain(m *testing.M) {
	checkEncoders = true
	os.Exit(m.Run())
}

// TestJSONSerializer_AsEncodingJSON pins the cases where a fast encoder
// most often parts from encoding/json: a shadowed embedded field,
// omitzero and omitempty, HTML characters, invalid and non-ASCII text,
// raw messages with spacing, decimals and times.
func TestJSONSerializer_AsEncodingJSON(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.FixedZone("CET", 3600))
	view := RegistrationItem{
		ID: uuid.MustParse("6f1c2d1e-8f5a-4c3b-9a7e-2b1d0c9e8f7a"), PartnerID: "p-<1>&", Status: domain.StatusActive,
		CompanyName: "Clínica \"Santa\" María \u2028 \xff", EstimatedValue: decimal.RequireFromString("1234.50"),
		ExpectedCloseDate: at, ProductLines: []string{"HR"},
		Terms: &projections.Terms{ProtectionEnd: at, ExtensionLength: domain.ISODuration(30 * domain.Day)},
	}
	// A list copies the views as the state database holds them, which
	// the projection encodes with goccy/go-json too.
	stored, err := goccy.Marshal(view)
	require.NoError(t, err)
	values := map[string]any{
		"view":       view,
		"list":       rawList{Items: []stdjson.RawMessage{stored, stdjson.RawMessage(`{}`)}, Next: "abc"},
		"empty list": rawList{Items: []stdjson.RawMessage{}},
		"detail":     Registration{History: []projections.HistoryEntry{{Type: "Submitted", Data: stdjson.RawMessage(`{ "a" : [1, 2] ,"b":"<x>"}`)}}},
		"map":        map[string]any{"z": 1, "a": []any{nil, 1.5, "&"}, "m": map[string]int{"b": 2, "a": 1}},
	}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			e := echo.New()
			rec := httptest.NewRecorder()
			c := e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
			require.NoError(t, jsonSerializer{}.Serialize(c, v, ""), "the two encoders differ")
			want, err := stdjson.Marshal(v)
			require.NoError(t, err)
			require.Equal(t, string(want)+"\n", rec.Body.String())
		})
	}
}
