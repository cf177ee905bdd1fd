package api

import (
	"github.com/dealreg/dealreg/domain"
)

// ParsePolicyText reads a proposed policy document typed as text, JSON or
// (when yaml) YAML, through the same checks as POST /v1/policies: the YAML
// conversion of policy_yaml.go, the JSON text checks, then
// domain.ParsePolicy, which lists every failing field at once. The
// console's policy editor uses it, so that a document is read one way.
func ParsePolicyText(text []byte, yaml bool) (domain.Policy, error) {
	if len(text) > domain.MaxPolicyDocument {
		return domain.Policy{}, domain.Errorf(domain.ETOOLARGE, "the policy document is over %d bytes", domain.MaxPolicyDocument)
	}
	doc := text
	if yaml {
		var err error
		if doc, err = yamlToJSON(text); err != nil {
			return domain.Policy{}, err
		}
	}
	if err := checkJSONText(doc); err != nil {
		return domain.Policy{}, err
	}
	return domain.ParsePolicy(doc)
}
