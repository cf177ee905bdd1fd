package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"go.yaml.in/yaml/v3"

	"github.com/dealreg/dealreg/domain"
)

// A policy document may be proposed as YAML (docs/policy.md): the body is
// read as YAML and written out as the JSON document it denotes, which is
// then parsed and validated exactly as a JSON body, so that every error
// names the same document path (auto_approval.max_value.USD) whichever
// way it was written.
//
// Only what JSON can say is accepted: mappings with string keys,
// sequences, strings, numbers, booleans and null. Anchors, aliases and
// merge keys are refused (they buy a policy document nothing and are how
// a small YAML file expands into a huge one), and so is a key given twice
// in a mapping, compared without regard to case as for JSON bodies. The
// YAML 1.2 core schema of go.yaml.in/yaml/v3 decides what a plain scalar
// is: `no`, `on` and `NO` (Norway) are strings, only true and false are
// booleans; a period such as 90d or 48h is a string either way.

// isYAML reports whether a Content-Type declares YAML.
func isYAML(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch mt {
	case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml":
		return true
	}
	return false
}

// jsonNumber is the JSON number grammar (RFC 8259 §6): a YAML number must
// be written so, since a hexadecimal or an .inf has no JSON form.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// yamlToJSON converts a YAML document to the JSON document it denotes.
func yamlToJSON(body []byte) ([]byte, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&doc); err != nil {
		return nil, invalidBody("", "the request body is not valid YAML: "+strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var more yaml.Node
	if err := dec.Decode(&more); err == nil {
		return nil, invalidBody("", "the request body holds more than one YAML document")
	}
	var buf bytes.Buffer
	if len(doc.Content) != 1 {
		return nil, invalidBody("", "the request body is an empty YAML document")
	}
	if err := writeYAMLNode(&buf, doc.Content[0], ""); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func yamlFieldError(path, code, msg string) error {
	return &domain.Error{Code: domain.EINVALID, Message: "the policy is invalid",
		Fields: []domain.FieldError{{Field: path, Code: code, Message: msg}}}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func writeYAMLNode(buf *bytes.Buffer, n *yaml.Node, path string) error {
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		return yamlFieldError(path, domain.FieldInvalid, fmt.Sprintf("line %d: anchors and aliases are not accepted", n.Line))
	}
	switch n.Kind {
	case yaml.MappingNode:
		buf.WriteByte('{')
		seen := make(map[string]bool, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
				if k.ShortTag() == "!!merge" {
					return yamlFieldError(path, domain.FieldInvalid, fmt.Sprintf("line %d: merge keys are not accepted", k.Line))
				}
				return yamlFieldError(path, domain.FieldInvalid, fmt.Sprintf("line %d: a key must be a string", k.Line))
			}
			field := joinPath(path, k.Value)
			if fold := strings.ToLower(k.Value); seen[fold] {
				return yamlFieldError(field, domain.FieldDuplicate, fmt.Sprintf("line %d: given twice", k.Line))
			} else {
				seen[fold] = true
			}
			if i > 0 {
				buf.WriteByte(',')
			}
			name, _ := json.Marshal(k.Value)
			buf.Write(name)
			buf.WriteByte(':')
			if err := writeYAMLNode(buf, v, field); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, item := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeYAMLNode(buf, item, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str", "!!timestamp": // a date is the string it reads as
			s, _ := json.Marshal(n.Value)
			buf.Write(s)
		case "!!bool":
			buf.WriteString(strings.ToLower(n.Value)) // true, True, TRUE; false, …
		case "!!null":
			buf.WriteString("null")
		case "!!int", "!!float":
			if !jsonNumber.MatchString(n.Value) {
				return yamlFieldError(path, domain.FieldInvalid, fmt.Sprintf("line %d: write the number %q in decimal, or quote it", n.Line, n.Value))
			}
			buf.WriteString(n.Value) // exactly as written: decimals are never floats
		default:
			return yamlFieldError(path, domain.FieldInvalid, fmt.Sprintf("line %d: the tag %s is not accepted", n.Line, n.ShortTag()))
		}
	default:
		return yamlFieldError(path, domain.FieldInvalid, fmt.Sprintf("line %d: not a value JSON can hold", n.Line))
	}
	return nil
}

// readPolicyBody reads a proposed policy document: body as sent (the
// request an idempotency key stands for) and doc, the JSON document (body
// itself, or its YAML converted).
func readPolicyBody(c echo.Context) (body, doc []byte, err error) {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if !isYAML(ct) {
		body, err = readBody(c)
		return body, body, err
	}
	if _, params, _ := mime.ParseMediaType(ct); params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8") {
		return nil, nil, echo.NewHTTPError(http.StatusUnsupportedMediaType, "send YAML in UTF-8: charset=utf-8 or none")
	}
	r := http.MaxBytesReader(c.Response(), c.Request().Body, MaxJSONBody)
	body, err = io.ReadAll(r)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, nil, domain.Errorf(domain.ETOOLARGE, "the request body is larger than %d bytes", MaxJSONBody)
	}
	if err != nil {
		return nil, nil, domain.Errorf(domain.EINVALID, "the request body could not be read")
	}
	if len(body) > domain.MaxPolicyDocument {
		return nil, nil, domain.Errorf(domain.ETOOLARGE, "the policy document is over %d bytes", domain.MaxPolicyDocument)
	}
	if !utf8.Valid(body) {
		return nil, nil, invalidBody("", "the request body is not UTF-8")
	}
	doc, err = yamlToJSON(body)
	return body, doc, err
}
