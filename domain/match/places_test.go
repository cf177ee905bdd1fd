package match

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPlacesDiffer(t *testing.T) {
	tests := []struct {
		a, b   string
		differ bool
		detail string
	}{
		{"Merck Sharp & Dohme Austria", "Merck (Japan)", true, "austria / japan"},
		{"Zelvora Österreich GmbH", "Zelvora Austria AG", false, ""},             // one country, two languages
		{"Zelvora Deutschland", "Zelvora (Germany)", false, ""},                  // the dictionary's spelling
		{"Zelvora Shanghai", "Zelvora China Holdings", true, "shanghai / china"}, // a city is a place too
		{"Zelvora Japan Tokyo", "Zelvora (Japan)", false, ""},                    // one place in common
		{"Zelvora Europe", "Zelvora (Japan)", false, ""},                         // a region is not a place here
		{"Kyowa Kirin North America", "Kyowa Kirin (United States)", false, ""},
		{"Zelvora Pharma", "Zelvora (India)", false, ""}, // a place on one side only
	}
	for _, tt := range tests {
		differ, detail := placesDiffer(prepareName(tt.a), prepareName(tt.b))
		require.Equal(t, tt.differ, differ, "%s / %s", tt.a, tt.b)
		require.Equal(t, tt.detail, detail, "%s / %s", tt.a, tt.b)
	}
}
