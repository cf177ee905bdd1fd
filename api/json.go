package api

import (
	"bytes"
	stdjson "encoding/json"
	"fmt"

	json "github.com/goccy/go-json"
	"github.com/labstack/echo/v4"
)

// jsonSerializer writes responses with github.com/goccy/go-json, which
// produces the bytes encoding/json does several times faster (a page of
// 50 registrations was a quarter of a list request's time). Request
// bodies are not read through it: readBody checks and decodes them with
// encoding/json.
type jsonSerializer struct{}

// checkEncoders makes every response also be encoded with encoding/json
// and refused (as an error) where the bytes differ. The package's tests
// turn it on, so every response they read proves the two agree.
var checkEncoders bool

func (jsonSerializer) Serialize(c echo.Context, v any, indent string) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(v); err != nil {
		return err
	}
	if checkEncoders {
		var std bytes.Buffer
		senc := stdjson.NewEncoder(&std)
		if indent != "" {
			senc.SetIndent("", indent)
		}
		if err := senc.Encode(v); err != nil {
			return err
		}
		if !bytes.Equal(std.Bytes(), buf.Bytes()) {
			return fmt.Errorf("goccy/go-json encoded %T as\n%s\nencoding/json as\n%s", v, buf.Bytes(), std.Bytes())
		}
	}
	_, err := c.Response().Write(buf.Bytes())
	return err
}

func (jsonSerializer) Deserialize(c echo.Context, v any) error {
	return echo.DefaultJSONSerializer{}.Deserialize(c, v)
}
