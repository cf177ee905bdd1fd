package api

import "encoding/json"

// mergePatch applies an RFC 7396 JSON merge patch to the JSON object
// target: members of patch replace those of target, null deletes, nested
// objects merge recursively, anything else (arrays included) replaces.
func mergePatch(target, patch []byte) ([]byte, error) {
	var t, p any
	if err := json.Unmarshal(target, &t); err != nil {
		return nil, err
	}
	if len(patch) == 0 {
		return target, nil
	}
	if err := json.Unmarshal(patch, &p); err != nil {
		return nil, err
	}
	if _, ok := p.(map[string]any); !ok {
		return nil, &json.UnsupportedValueError{Str: "a merge patch of details must be an object"}
	}
	return json.Marshal(merge(t, p))
}

func merge(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = merge(t[k], v)
	}
	return t
}
