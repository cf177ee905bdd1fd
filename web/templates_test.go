package web

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

// str gives the text of named string types too, so templates compare a
// status or a kind with a literal.
func TestStrOfNamedStrings(t *testing.T) {
	p := parsePages()["error"]
	tmpl, err := p.Clone()
	require.NoError(t, err)
	tmpl, err = tmpl.New("t").Parse(`{{str .S}}|{{str .K}}|{{str .N}}`)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, tmpl.Execute(&b, map[string]any{"S": domain.StatusDuplicate, "K": domain.ConflictPartnerVsPartner, "N": 3}))
	require.Equal(t, "duplicate|partner_vs_partner|", b.String())
}
