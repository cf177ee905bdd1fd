// Package notify decides which ledger events become e-mail notifications,
// to whom, and what they say in Spanish and English. It is pure: the
// outbox (projections/outbox.go) asks Classify for each event and fans
// the notice out to the people recorded; the dispatcher (app/outbox.go)
// renders each message with Render when it sends it.
package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/dealreg/dealreg/domain"
)

// Kinds of notification; a person's preferences are keyed by them.
const (
	SubmissionReceived = "submission_received"
	Verdict            = "verdict"
	Approved           = "approved"
	Rejected           = "rejected"
	Returned           = "returned"
	ExtensionGranted   = "extension_granted"
	ExtensionDenied    = "extension_denied"
	ExpiryReminder     = "expiry_reminder"
	Expired            = "expired"
	EvidenceRequested  = "evidence_requested"
	ConflictDecided    = "conflict_decided"
	PolicyChanged      = "policy_changed"
	ReviewAssigned     = "review_assigned"
	ReviewReminder     = "review_reminder"
	ReviewEscalated    = "review_escalated"
	// AttestationRequested is the customer attestation link, to the
	// prospect's contact named on the request (not a person dealreg
	// knows: it has no preferences).
	AttestationRequested = "attestation_requested"
)

// Kinds lists every kind, for documentation and tests.
var Kinds = []string{SubmissionReceived, Verdict, Approved, Rejected, Returned, ExtensionGranted, ExtensionDenied,
	ExpiryReminder, Expired, EvidenceRequested, ConflictDecided, PolicyChanged, ReviewAssigned, ReviewReminder, ReviewEscalated}

// ContactKinds lists the kinds sent to a contact named on the event
// rather than to people: they take no preferences.
var ContactKinds = []string{AttestationRequested}

// Notice is what one event tells, and to whom: the users of the partner
// that owns Stream (a registration stream), every partner user
// (AllPartners), the reviewers of Group, the people of Role, or the
// Contact the event names (ContactKey is its channel).
type Notice struct {
	Kind        string                     `json:"kind"`
	Stream      string                     `json:"stream,omitempty"`
	AllPartners bool                       `json:"all_partners,omitempty"`
	Group       string                     `json:"group,omitempty"`
	Role        domain.Role                `json:"role,omitempty"`
	Contact     *domain.AttestationContact `json:"contact,omitempty"`
	ContactKey  string                     `json:"contact_key,omitempty"`
	Fields      map[string]string          `json:"fields"`
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func regStream(id fmt.Stringer) string { return "registration-" + id.String() }

// Classify returns the notice event ev gives, if any.
func Classify(ev domain.Event) (Notice, bool) {
	n := Notice{Fields: map[string]string{}}
	switch e := ev.(type) {
	case domain.RegistrationSubmitted:
		n.Kind, n.Stream = SubmissionReceived, regStream(e.RegistrationID)
		n.Fields["registration"] = e.RegistrationID.String()
		n.Fields["company"] = e.Details.Account.CompanyName
	case domain.RegistrationVerdictRecorded:
		n.Kind, n.Stream = Verdict, regStream(e.RegistrationID)
		n.Fields["registration"], n.Fields["verdict"] = e.RegistrationID.String(), string(e.Verdict)
	case domain.RegistrationApproved:
		n.Kind, n.Stream = Approved, regStream(e.RegistrationID)
		n.Fields["registration"] = e.RegistrationID.String()
		n.Fields["start"], n.Fields["end"] = day(e.Terms.ProtectionStart), day(e.Terms.ProtectionEnd)
		if b := e.Benefits; b != nil {
			n.Fields["discount"] = b.Discount.Percent.String() + "%"
			if !b.MDF.Amount.IsZero() {
				n.Fields["mdf"] = b.MDF.Amount.Amount.StringFixed(2) + " " + b.MDF.Amount.Currency
			}
		}
	case domain.RegistrationRejected:
		n.Kind, n.Stream = Rejected, regStream(e.RegistrationID)
		n.Fields["registration"] = e.RegistrationID.String()
		n.Fields["reason"], n.Fields["explanation"], n.Fields["guidance"] = string(e.Reason), e.Explanation, e.Guidance
	case domain.RegistrationReturned:
		n.Kind, n.Stream = Returned, regStream(e.RegistrationID)
		n.Fields["registration"], n.Fields["message"] = e.RegistrationID.String(), e.Message
		n.Fields["fields"] = strings.Join(e.RequestedFields, ", ")
	case domain.RegistrationExtensionGranted:
		n.Kind, n.Stream = ExtensionGranted, regStream(e.RegistrationID)
		n.Fields["registration"], n.Fields["end"] = e.RegistrationID.String(), day(e.NewEnd)
	case domain.RegistrationExtensionDenied:
		n.Kind, n.Stream = ExtensionDenied, regStream(e.RegistrationID)
		n.Fields["registration"], n.Fields["reason"] = e.RegistrationID.String(), e.Reason
	case domain.RegistrationExpiryReminderSent:
		n.Kind, n.Stream = ExpiryReminder, regStream(e.RegistrationID)
		n.Fields["registration"], n.Fields["end"] = e.RegistrationID.String(), day(e.ProtectionEnd)
		n.Fields["days"] = fmt.Sprint(e.DaysLeft)
	case domain.RegistrationExpired:
		n.Kind, n.Stream = Expired, regStream(e.RegistrationID)
		n.Fields["registration"], n.Fields["end"] = e.RegistrationID.String(), day(e.ProtectionEnd)
	case domain.ConflictEvidenceRequested:
		id, ok := strings.CutPrefix(e.PartyKey, "registration:")
		if !ok {
			return Notice{}, false // the direct party is told through the CRM
		}
		n.Kind, n.Stream = EvidenceRequested, "registration-"+id
		n.Fields["registration"], n.Fields["conflict"], n.Fields["request"] = id, e.ConflictID.String(), e.Request
	case domain.RegistrationConflictDecided:
		n.Kind, n.Stream = ConflictDecided, regStream(e.RegistrationID)
		n.Fields["registration"], n.Fields["result"], n.Fields["rationale"] = e.RegistrationID.String(), string(e.Result), e.Rationale
	case domain.PolicyPublished:
		n.Kind, n.AllPartners = PolicyChanged, true
		n.Fields["version"], n.Fields["effective"] = fmt.Sprint(e.Version), day(e.EffectiveFrom)
	case domain.ConflictAttestationRequested:
		// Only what the link needs, rebuilt when it is sent: the token is
		// never stored, and nothing else of the case is told.
		c := e.Personal
		n.Kind, n.Contact, n.ContactKey = AttestationRequested, &c, e.AttestationID.String()
		n.Fields["conflict"], n.Fields["attestation"] = e.ConflictID.String(), e.AttestationID.String()
		n.Fields["expires_at"] = e.ExpiresAt.UTC().Format(time.RFC3339)
		n.Fields["until"] = e.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")
	case domain.RegistrationRouted:
		n.Kind, n.Group = ReviewAssigned, e.Group
		n.Fields["registration"], n.Fields["due"] = e.RegistrationID.String(), e.DueAt.UTC().Format(time.RFC3339)
	case domain.RegistrationReviewReminderSent:
		n.Kind, n.Group = ReviewReminder, e.Group
		n.Fields["registration"], n.Fields["due"] = e.RegistrationID.String(), e.DueAt.UTC().Format(time.RFC3339)
	case domain.RegistrationReviewEscalated:
		n.Kind, n.Role = ReviewEscalated, e.To
		n.Fields["registration"], n.Fields["due"], n.Fields["group"] = e.RegistrationID.String(), e.DueAt.UTC().Format(time.RFC3339), e.FromGroup
	default:
		return Notice{}, false
	}
	return n, true
}

// Message is one e-mail as the outbox stores it until it is sent.
type Message struct {
	To       string            `json:"to"`
	Name     string            `json:"name"`
	Language string            `json:"language"`
	Kind     string            `json:"kind"`
	Fields   map[string]string `json:"fields"`
}

// Encode returns m as stored.
func (m Message) Encode() []byte {
	b, _ := json.Marshal(m)
	return b
}

// Decode reads a stored message.
func Decode(b []byte) (Message, error) {
	var m Message
	err := json.Unmarshal(b, &m)
	return m, err
}

// template text per kind and language: subject, then a blank line, then
// the body.
var texts = map[string]map[string]string{
	AttestationRequested: attestationTexts,
	SubmissionReceived: {
		"en": "Registration received: {{.company}}\n\nHello {{.name}},\n\nwe received your deal registration {{.registration}} for {{.company}}. A reviewer will decide it; you will hear from us.",
		"es": "Registro recibido: {{.company}}\n\nHola {{.name}}:\n\nrecibimos su registro de oportunidad {{.registration}} para {{.company}}. Un revisor lo decidirá y le avisaremos.",
	},
	Verdict: {
		"en": "Duplicate check: {{.verdict}}\n\nHello {{.name}},\n\nthe duplicate check on registration {{.registration}} found: {{.verdict}}.",
		"es": "Verificación de duplicados: {{.verdict}}\n\nHola {{.name}}:\n\nla verificación de duplicados del registro {{.registration}} resultó: {{.verdict}}.",
	},
	Approved: {
		"en": "Registration approved\n\nHello {{.name}},\n\nregistration {{.registration}} is approved. It is protected from {{.start}} to {{.end}}.{{if .discount}} Discount: {{.discount}}.{{end}}{{if .mdf}} Marketing funds: {{.mdf}}.{{end}}",
		"es": "Registro aprobado\n\nHola {{.name}}:\n\nel registro {{.registration}} fue aprobado. Está protegido del {{.start}} al {{.end}}.{{if .discount}} Descuento: {{.discount}}.{{end}}{{if .mdf}} Fondos de marketing: {{.mdf}}.{{end}}",
	},
	Rejected: {
		"en": "Registration rejected\n\nHello {{.name}},\n\nregistration {{.registration}} was rejected ({{.reason}}): {{.explanation}}\n\nWhat you can do: {{.guidance}}",
		"es": "Registro rechazado\n\nHola {{.name}}:\n\nel registro {{.registration}} fue rechazado ({{.reason}}): {{.explanation}}\n\nQué puede hacer: {{.guidance}}",
	},
	Returned: {
		"en": "More information needed\n\nHello {{.name}},\n\nregistration {{.registration}} was returned to you: {{.message}}{{if .fields}} (fields: {{.fields}}){{end}}. Amend it and submit it again.",
		"es": "Se necesita más información\n\nHola {{.name}}:\n\nel registro {{.registration}} le fue devuelto: {{.message}}{{if .fields}} (campos: {{.fields}}){{end}}. Corríjalo y envíelo de nuevo.",
	},
	ExtensionGranted: {
		"en": "Extension granted\n\nHello {{.name}},\n\nthe protection of registration {{.registration}} now ends on {{.end}}.",
		"es": "Extensión concedida\n\nHola {{.name}}:\n\nla protección del registro {{.registration}} termina ahora el {{.end}}.",
	},
	ExtensionDenied: {
		"en": "Extension denied\n\nHello {{.name}},\n\nthe extension of registration {{.registration}} was denied: {{.reason}}",
		"es": "Extensión denegada\n\nHola {{.name}}:\n\nla extensión del registro {{.registration}} fue denegada: {{.reason}}",
	},
	ExpiryReminder: {
		"en": "Protection ends in {{.days}} days\n\nHello {{.name}},\n\nthe protection of registration {{.registration}} ends on {{.end}}. Request an extension or record progress before then.",
		"es": "La protección vence en {{.days}} días\n\nHola {{.name}}:\n\nla protección del registro {{.registration}} vence el {{.end}}. Solicite una extensión o registre avances antes de esa fecha.",
	},
	Expired: {
		"en": "Protection expired\n\nHello {{.name}},\n\nthe protection of registration {{.registration}} ended on {{.end}}.",
		"es": "Protección vencida\n\nHola {{.name}}:\n\nla protección del registro {{.registration}} terminó el {{.end}}.",
	},
	EvidenceRequested: {
		"en": "Evidence requested on a conflict\n\nHello {{.name}},\n\nthe reviewer of conflict {{.conflict}} on registration {{.registration}} asks for evidence: {{.request}}",
		"es": "Se solicita evidencia en un conflicto\n\nHola {{.name}}:\n\nel revisor del conflicto {{.conflict}} sobre el registro {{.registration}} solicita evidencia: {{.request}}",
	},
	ConflictDecided: {
		"en": "Conflict decided\n\nHello {{.name}},\n\nthe conflict on registration {{.registration}} was decided: {{.result}}. {{.rationale}}",
		"es": "Conflicto resuelto\n\nHola {{.name}}:\n\nel conflicto sobre el registro {{.registration}} fue resuelto: {{.result}}. {{.rationale}}",
	},
	PolicyChanged: {
		"en": "Program policy version {{.version}}\n\nHello {{.name}},\n\nversion {{.version}} of the deal registration policy takes effect on {{.effective}}.",
		"es": "Política del programa, versión {{.version}}\n\nHola {{.name}}:\n\nla versión {{.version}} de la política de registro de oportunidades entra en vigor el {{.effective}}.",
	},
	ReviewAssigned: {
		"en": "Registration to review\n\nHello {{.name}},\n\nregistration {{.registration}} awaits your review, due {{.due}}.",
		"es": "Registro por revisar\n\nHola {{.name}}:\n\nel registro {{.registration}} espera su revisión, con vencimiento {{.due}}.",
	},
	ReviewReminder: {
		"en": "Reminder: review due {{.due}}\n\nHello {{.name}},\n\nregistration {{.registration}} is still waiting for review, due {{.due}}.",
		"es": "Recordatorio: revisión vence {{.due}}\n\nHola {{.name}}:\n\nel registro {{.registration}} sigue esperando revisión, con vencimiento {{.due}}.",
	},
	ReviewEscalated: {
		"en": "Review escalated to you\n\nHello {{.name}},\n\nthe review of registration {{.registration}} ({{.group}}) was escalated to you, due {{.due}}.",
		"es": "Revisión escalada a usted\n\nHola {{.name}}:\n\nla revisión del registro {{.registration}} ({{.group}}) se escaló a usted, con vencimiento {{.due}}.",
	},
}

// attestationTexts is the customer's mail: no partner, account, case or
// reviewer is named; the public page asks the one question.
var attestationTexts = map[string]string{
	"en": "A question about the partners you work with\n\nHello{{if .name}} {{.name}}{{end}},\n\nour partner programme asks for your help with one question: which of our partners do you work with, and for which solution? It takes a minute and needs no account. The link works once, until {{.until}}:\n\n{{.link}}\n\nIf you did not expect this message, you can ignore it.",
	"es": "Una pregunta sobre los partners con los que trabaja\n\nHola{{if .name}} {{.name}}{{end}}:\n\nnuestro programa de partners le pide ayuda con una sola pregunta: ¿con cuál de nuestros partners trabaja, y para qué solución? Toma un minuto y no necesita cuenta. El enlace funciona una vez, hasta el {{.until}}:\n\n{{.link}}\n\nSi no esperaba este mensaje, puede ignorarlo.",
}

var templates = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for kind, langs := range texts {
		for lang, text := range langs {
			out[kind+"/"+lang] = template.Must(template.New(kind + "/" + lang).Option("missingkey=zero").Parse(text))
		}
	}
	return out
}()

// Render returns the subject and the plain-text body of m in its
// language (English when it has none of ours). A message without a
// language (a contact whose language nobody knew) is written in Spanish
// and then in English.
func Render(m Message) (subject, body string, err error) {
	if m.Language == "" {
		es, eb, err := renderIn(m, "es")
		if err != nil {
			return "", "", err
		}
		ens, enb, err := renderIn(m, "en")
		if err != nil {
			return "", "", err
		}
		return es + " / " + ens, eb + "\n---\n\n" + enb, nil
	}
	return renderIn(m, m.Language)
}

func renderIn(m Message, lang string) (subject, body string, err error) {
	t, ok := templates[m.Kind+"/"+lang]
	if !ok {
		t, ok = templates[m.Kind+"/en"]
	}
	if !ok {
		return "", "", fmt.Errorf("notify: no template for %s", m.Kind)
	}
	data := map[string]string{"name": m.Name}
	for k, v := range m.Fields {
		data[k] = v
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return "", "", err
	}
	subject, body, _ = strings.Cut(buf.String(), "\n\n")
	return subject, body + "\n", nil
}
