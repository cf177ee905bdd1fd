package attachments

import (
	"bytes"
	"encoding/binary"
	"mime"
	"net/http"
	"strings"

	"github.com/dealreg/dealreg/domain"
)

// sniffLen is how many leading bytes http.DetectContentType considers.
const sniffLen = 512

const (
	docxType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	pptxType = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
)

// ooxmlTypes are the Office Open XML formats: ZIP archives that the sniffer
// reports as application/zip, so the declared type refines a sniffed ZIP.
var ooxmlTypes = map[string]bool{docxType: true, xlsxType: true, pptxType: true}

// sniffable lists the media types http.DetectContentType recognises by
// signature (net/http/sniff.go), plus the OOXML types it reports as ZIP. A
// declaration of one of these is not believed when the sniffer says
// otherwise: a real PDF would have sniffed as application/pdf.
var sniffable = map[string]bool{
	"application/ogg": true, "application/pdf": true, "application/postscript": true,
	"application/vnd.ms-fontobject": true, "application/wasm": true, "application/x-gzip": true,
	"application/x-rar-compressed": true, "application/zip": true,
	"audio/aiff": true, "audio/midi": true, "audio/mpeg": true, "audio/wave": true,
	"font/collection": true, "font/otf": true, "font/ttf": true, "font/woff": true, "font/woff2": true,
	"image/bmp": true, "image/gif": true, "image/jpeg": true, "image/png": true,
	"image/vnd.microsoft.icon": true, "image/webp": true, "image/x-icon": true,
	"text/html": true, "text/plain": true, "text/xml": true,
	"video/avi": true, "video/mp4": true, "video/webm": true,
	docxType: true, xlsxType: true, pptxType: true,
}

// contentType decides the effective media type of a document from its first
// bytes and the declared type, or refuses it with EINVALID on field "file".
//
// The sniffed type wins when it is specific (a PNG declared as PDF is stored
// as image/png). The declared type is used only where the sniffer cannot
// tell: a ZIP declared as an OOXML type; text (sniffed text/plain) declared
// as a textual type the sniffer does not recognise, such as text/csv or
// message/rfc822; unrecognised binary (application/octet-stream) declared as
// a non-textual type the sniffer does not recognise. Either way the result
// must be in the allow-list, so HTML or an executable is refused whatever
// its declared type. Text types keep a charset parameter: the declared one,
// else the sniffed one.
func (s *Store) contentType(head []byte, declared string) (string, error) {
	sniffed, sniffedParams, _ := mime.ParseMediaType(http.DetectContentType(head))
	if exe := executableType(head); exe != "" {
		// The sniffer reports programs as application/octet-stream or
		// text/plain, which a declared type could otherwise override.
		sniffed, sniffedParams = exe, nil
	}
	declaredBase, declaredParams, err := mime.ParseMediaType(declared)
	if err != nil || !validMediaType(declaredBase) {
		declaredBase, declaredParams = "", nil // unusable: rely on sniffing alone
	}

	effective := sniffed
	switch {
	case declaredBase == "" || !s.allowed[declaredBase]:
	case sniffed == "application/zip" && ooxmlTypes[declaredBase]:
		effective = declaredBase
	case sniffed == "text/plain" && !sniffable[declaredBase] && isTextual(declaredBase):
		effective = declaredBase
	case sniffed == "application/octet-stream" && !sniffable[declaredBase] && !isTextual(declaredBase):
		effective = declaredBase
	}
	if !s.allowed[effective] {
		msg := "the file content was detected as " + sniffed + ", which is not an accepted document type"
		if sniffed == "application/zip" {
			msg += "; Office documents must be declared with their Office Open XML media type"
		}
		return "", &domain.Error{Code: domain.EINVALID, Message: msg, Fields: []domain.FieldError{
			{Field: "file", Code: "unsupported_type", Message: msg},
		}}
	}

	if strings.HasPrefix(effective, "text/") {
		charset := ""
		if declaredBase == effective {
			charset = strings.ToLower(declaredParams["charset"])
		}
		if !validCharset(charset) && sniffed == "text/plain" {
			charset = sniffedParams["charset"]
		}
		if validCharset(charset) {
			if ct := mime.FormatMediaType(effective, map[string]string{"charset": charset}); ct != "" {
				return ct, nil
			}
		}
	}
	return effective, nil
}

// executableType names the kind of program head starts with, or returns "".
func executableType(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return "application/x-elf"
	case bytes.HasPrefix(head, []byte("#!")):
		return "text/x-script"
	case isPE(head):
		return "application/vnd.microsoft.portable-executable"
	}
	for _, magic := range [][]byte{
		{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf}, // Mach-O, big-endian
		{0xce, 0xfa, 0xed, 0xfe}, {0xcf, 0xfa, 0xed, 0xfe}, // Mach-O, little-endian
		{0xca, 0xfe, 0xba, 0xbe}, // Mach-O universal (also Java class files)
	} {
		if bytes.HasPrefix(head, magic) {
			return "application/x-mach-binary"
		}
	}
	return ""
}

// isPE reports whether head is a DOS/Windows executable: "MZ", and when the
// PE header offset falls within head, "PE\0\0" there. "MZ" alone is too
// short a signature for text that happens to start with it, which the check
// on the PE header rules out for all but tiny files.
func isPE(head []byte) bool {
	if !bytes.HasPrefix(head, []byte("MZ")) {
		return false
	}
	if len(head) < 0x40 {
		return http.DetectContentType(head) == "application/octet-stream"
	}
	off := int(binary.LittleEndian.Uint32(head[0x3c:]))
	if off < 0x40 || off > len(head)-4 {
		return http.DetectContentType(head) == "application/octet-stream"
	}
	return bytes.Equal(head[off:off+4], []byte("PE\x00\x00"))
}

// isTextual reports whether a media type is text a human could read, which
// the sniffer reports as text/plain.
func isTextual(mediaType string) bool {
	return strings.HasPrefix(mediaType, "text/") || strings.HasPrefix(mediaType, "message/")
}

// validCharset accepts IANA-style charset names only, so that no odd
// parameter value reaches the stored content type.
func validCharset(cs string) bool {
	if cs == "" || len(cs) > 40 {
		return false
	}
	for _, c := range cs {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && !strings.ContainsRune("-_.:+", c) {
			return false
		}
	}
	return true
}

// parseMediaType returns the lowercase type/subtype of v without parameters.
func parseMediaType(v string) (string, bool) {
	base, _, err := mime.ParseMediaType(v)
	if err != nil || !validMediaType(base) {
		return "", false
	}
	return base, true
}

// validMediaType reports whether a parsed media type has the type/subtype
// form; mime.ParseMediaType also accepts a bare token.
func validMediaType(base string) bool {
	typ, sub, ok := strings.Cut(base, "/")
	return ok && typ != "" && sub != "" && !strings.Contains(sub, "/")
}
