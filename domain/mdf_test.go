package domain_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dealreg/dealreg/domain"
)

var marketing = domain.Actor{ID: "user-mkt", Role: domain.RoleChannelMarketing}

// approvedWithMDF returns an opportunity of partner-1 (gold) approved under
// version 1: 150000 USD, so an MDF allocation of 3000 USD.
func approvedWithMDF(t *testing.T) *domain.Registration {
	t.Helper()
	r := reach(t, domain.StatusUnderReview)
	return do(t, r)(r.ApproveGranting(manager, domain.DefaultPolicy(), domain.TierGold, approvedAt))
}

func mdfInput(amount string) domain.MDFRequestInput {
	day := approvedAt.Format(time.DateOnly)
	return domain.MDFRequestInput{Activity: domain.MDFCustomDemo, Description: "Demo for the CFO", Amount: money(amount, "USD"), StartDate: domain.Date(day), EndDate: domain.Date(day)}
}

func applyMDF(t *testing.T, a *domain.MDFAccount, events []domain.Event, err error) {
	t.Helper()
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.NoError(t, a.Apply(events[0]))
}

var receiptPDF = domain.Attachment{SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Size: 42, ContentType: "application/pdf", Filename: "invoice.pdf"}

// What remains of the allocation after each step: a pending request holds
// what it asks, an approval what it approves, a reimbursement what it pays;
// a rejection holds nothing. A request for more than remains is refused
// with what remains.
func TestMDFAccount_Balance(t *testing.T) {
	r := approvedWithMDF(t)
	b, ok := r.Benefits()
	require.True(t, ok)
	require.Equal(t, "3000", b.MDF.Amount.Amount.String())
	a, err := domain.RebuildMDF()
	require.NoError(t, err)
	at := cmdAt
	var log []domain.Event
	steps := []struct {
		name      string
		run       func() ([]domain.Event, error)
		remaining string
		refused   string // the error code, "" when it succeeds
	}{
		{"request 1000", func() ([]domain.Event, error) { return a.Request(partner, r, mdfInput("1000"), at) }, "2000", ""},
		{"request 1500", func() ([]domain.Event, error) { return a.Request(partner, r, mdfInput("1500"), at) }, "500", ""},
		{"request 500.01 refused", func() ([]domain.Event, error) { return a.Request(partner, r, mdfInput("500.01"), at) }, "500", domain.ECONFLICT},
		{"approve 1 for 800 releases 200", func() ([]domain.Event, error) { return a.Approve(marketing, r, 1, money("800", "USD"), "", at) }, "700", ""},
		{"reject 2 releases 1500", func() ([]domain.Event, error) { return a.Reject(marketing, r, 2, "not this quarter", at) }, "2200", ""},
		{"receipt for 1", func() ([]domain.Event, error) { return a.AddReceipt(partner, r, 1, receiptPDF, at) }, "2200", ""},
		{"claim 1 for 790.55", func() ([]domain.Event, error) {
			return a.Claim(partner, r, 1, money("790.55", "USD"), []string{receiptPDF.SHA256}, "", at)
		}, "2200", ""},
		{"reimburse 1 for 750.10 releases 49.90", func() ([]domain.Event, error) {
			return a.Reimburse(marketing, r, 1, money("750.10", "USD"), "the taxi is not covered", at)
		}, "2249.9", ""},
		{"request all that remains", func() ([]domain.Event, error) { return a.Request(partner, r, mdfInput("2249.90"), at) }, "0", ""},
		{"a cent more is refused", func() ([]domain.Event, error) { return a.Request(partner, r, mdfInput("0.01"), at) }, "0", domain.ECONFLICT},
		{"approve 3 in full", func() ([]domain.Event, error) { return a.Approve(marketing, r, 3, domain.Money{}, "", at) }, "0", ""},
		{"receipt for 3", func() ([]domain.Event, error) { return a.AddReceipt(partner, r, 3, receiptPDF, at) }, "0", ""},
		{"claim 3 in full", func() ([]domain.Event, error) {
			return a.Claim(partner, r, 3, money("2249.9", "USD"), []string{receiptPDF.SHA256}, "", at)
		}, "0", ""},
		{"reject the claim of 3 releases it", func() ([]domain.Event, error) { return a.RejectClaim(marketing, r, 3, "no receipt for the venue", at) }, "2249.9", ""},
		{"request 49.9", func() ([]domain.Event, error) { return a.Request(partner, r, mdfInput("49.9"), at) }, "2200", ""},
		{"marketing does not withdraw", func() ([]domain.Event, error) { return a.Withdraw(marketing, r, 4, "", at) }, "2200", domain.EFORBIDDEN},
		{"the partner withdraws 4, releasing it", func() ([]domain.Event, error) { return a.Withdraw(partner, r, 4, "the event was cancelled", at) }, "2249.9", ""},
		{"a withdrawn request is not approved", func() ([]domain.Event, error) { return a.Approve(marketing, r, 4, domain.Money{}, "", at) }, "2249.9", domain.ECONFLICT},
	}
	for _, s := range steps {
		events, err := s.run()
		if s.refused != "" {
			require.Equal(t, s.refused, domain.ErrorCode(err), s.name)
			require.Empty(t, events, s.name)
		} else {
			applyMDF(t, a, events, err)
			log = append(log, events...)
		}
		got := a.Remaining(b.MDF.Amount)
		require.True(t, dec(s.remaining).Equal(got.Amount), "%s: remaining %s", s.name, got)
		require.False(t, got.Amount.IsNegative(), s.name)
	}
	qs := a.Requests()
	require.Len(t, qs, 4)
	require.Equal(t, domain.MDFWithdrawnState, qs[3].State)
	require.Equal(t, domain.MDFReimbursedState, qs[0].State)
	require.Equal(t, "750.1", qs[0].Reimbursed.Amount.String())
	require.Equal(t, "790.55", qs[0].Claimed.Amount.String())
	require.Equal(t, domain.MDFRejectedState, qs[1].State)
	require.Equal(t, domain.MDFClaimRejectedState, qs[2].State)

	// The refusal names what remains, in the currency's minor unit.
	_, err = a.Request(partner, r, mdfInput("2250"), at)
	require.Equal(t, domain.ECONFLICT, domain.ErrorCode(err))
	require.Contains(t, domain.ErrorMessage(err), "2249.90 USD of 3000.00 USD remain")
	require.Equal(t, []domain.FieldError{{Field: "amount.amount", Code: domain.FieldExceedsRemaining, Message: "must be at most 2249.90 USD, what remains of the allocation"}}, domain.ErrorFields(err))

	// Replaying the stream rebuilds the same account.
	again, err := domain.RebuildMDF(log...)
	require.NoError(t, err)
	require.Equal(t, a.Requests(), again.Requests())
	require.Equal(t, a.Version(), again.Version())
}

func TestMDFAccount_Refusals(t *testing.T) {
	r := approvedWithMDF(t)
	other := domain.Actor{ID: "user-p2", Role: domain.RolePartner, PartnerID: "partner-2"}
	sales := domain.Actor{ID: "user-ds", Role: domain.RoleDirectSales}
	day := func(d time.Duration) domain.Date { return domain.Date(cmdAt.Add(d).Format(time.DateOnly)) }
	fresh := func(t *testing.T) *domain.MDFAccount {
		a, err := domain.RebuildMDF()
		require.NoError(t, err)
		return a
	}
	approvedRequest := func(t *testing.T, end domain.Date) *domain.MDFAccount {
		a := fresh(t)
		in := mdfInput("1000")
		in.EndDate = end
		events, err := a.Request(partner, r, in, cmdAt)
		applyMDF(t, a, events, err)
		events, err = a.Approve(marketing, r, 1, domain.Money{}, "ok", cmdAt)
		applyMDF(t, a, events, err)
		return a
	}
	for _, tc := range []struct {
		name   string
		run    func(t *testing.T) ([]domain.Event, error)
		code   string
		fields []string
	}{
		{"another partner's registration is not found", func(t *testing.T) ([]domain.Event, error) {
			return fresh(t).Request(other, r, mdfInput("10"), cmdAt)
		}, domain.ENOTFOUND, nil},
		{"direct sales may not", func(t *testing.T) ([]domain.Event, error) {
			return fresh(t).Request(sales, r, mdfInput("10"), cmdAt)
		}, domain.EFORBIDDEN, nil},
		{"vendor staff do not request", func(t *testing.T) ([]domain.Event, error) {
			return fresh(t).Request(marketing, r, mdfInput("10"), cmdAt)
		}, domain.EFORBIDDEN, nil},
		{"a registration never approved has no allocation", func(t *testing.T) ([]domain.Event, error) {
			return fresh(t).Request(partner, reach(t, domain.StatusCleared), mdfInput("10"), cmdAt)
		}, domain.ECONFLICT, nil},
		{"an approval without benefits has no allocation", func(t *testing.T) ([]domain.Event, error) {
			return fresh(t).Request(partner, reach(t, domain.StatusActive), mdfInput("10"), cmdAt)
		}, domain.ECONFLICT, nil},
		{"a closed registration takes no request", func(t *testing.T) ([]domain.Event, error) {
			closed := approvedWithMDF(t)
			do(t, closed)(closed.CloseLost(partner, "lost", cmdAt))
			return fresh(t).Request(partner, closed, mdfInput("10"), cmdAt)
		}, domain.ECONFLICT, nil},
		{"invalid input, every field", func(t *testing.T) ([]domain.Event, error) {
			return fresh(t).Request(partner, r, domain.MDFRequestInput{Activity: "party", Amount: money("-5", "EUR"), StartDate: "tomorrow", EndDate: day(400 * domain.Day)}, cmdAt)
		}, domain.EINVALID, []string{"activity", "amount.currency", "amount.amount", "start_date", "end_date"}},
		{"a fraction of a cent", func(t *testing.T) ([]domain.Event, error) {
			return fresh(t).Request(partner, r, mdfInput("10.005"), cmdAt)
		}, domain.EINVALID, []string{"amount.amount"}},
		{"an end before the start", func(t *testing.T) ([]domain.Event, error) {
			in := mdfInput("10")
			in.StartDate, in.EndDate = day(2*domain.Day), day(domain.Day)
			return fresh(t).Request(partner, r, in, cmdAt)
		}, domain.EINVALID, []string{"end_date"}},
		{"a partner does not approve", func(t *testing.T) ([]domain.Event, error) {
			a := fresh(t)
			events, err := a.Request(partner, r, mdfInput("10"), cmdAt)
			applyMDF(t, a, events, err)
			return a.Approve(partner, r, 1, domain.Money{}, "", cmdAt)
		}, domain.EFORBIDDEN, nil},
		{"a channel manager does not approve", func(t *testing.T) ([]domain.Event, error) {
			a := fresh(t)
			events, err := a.Request(partner, r, mdfInput("10"), cmdAt)
			applyMDF(t, a, events, err)
			return a.Approve(manager, r, 1, domain.Money{}, "", cmdAt)
		}, domain.EFORBIDDEN, nil},
		{"approving more than requested", func(t *testing.T) ([]domain.Event, error) {
			a := fresh(t)
			events, err := a.Request(partner, r, mdfInput("10"), cmdAt)
			applyMDF(t, a, events, err)
			return a.Approve(marketing, r, 1, money("11", "USD"), "", cmdAt)
		}, domain.EINVALID, []string{"amount.amount"}},
		{"no such request", func(t *testing.T) ([]domain.Event, error) {
			return fresh(t).Approve(marketing, r, 1, domain.Money{}, "", cmdAt)
		}, domain.ENOTFOUND, nil},
		{"approving twice", func(t *testing.T) ([]domain.Event, error) {
			return approvedRequest(t, day(0)).Approve(marketing, r, 1, domain.Money{}, "", cmdAt)
		}, domain.ECONFLICT, nil},
		{"claiming before the activity ended", func(t *testing.T) ([]domain.Event, error) {
			a := approvedRequest(t, day(3*domain.Day))
			events, err := a.AddReceipt(partner, r, 1, receiptPDF, cmdAt)
			applyMDF(t, a, events, err)
			return a.Claim(partner, r, 1, money("10", "USD"), []string{receiptPDF.SHA256}, "", cmdAt)
		}, domain.ECONFLICT, nil},
		{"claiming more than approved, without receipts", func(t *testing.T) ([]domain.Event, error) {
			return approvedRequest(t, day(0)).Claim(partner, r, 1, money("1000.01", "USD"), nil, "", cmdAt)
		}, domain.EINVALID, []string{"amount.amount", "receipts"}},
		{"citing a receipt never uploaded", func(t *testing.T) ([]domain.Event, error) {
			return approvedRequest(t, day(0)).Claim(partner, r, 1, money("10", "USD"), []string{receiptPDF.SHA256}, "", cmdAt)
		}, domain.EINVALID, []string{"receipts[0]"}},
		{"reimbursing less without a reason, more than claimed", func(t *testing.T) ([]domain.Event, error) {
			a := approvedRequest(t, day(0))
			events, err := a.AddReceipt(partner, r, 1, receiptPDF, cmdAt)
			applyMDF(t, a, events, err)
			events, err = a.Claim(partner, r, 1, money("500", "USD"), []string{receiptPDF.SHA256}, "", cmdAt)
			applyMDF(t, a, events, err)
			if _, err := a.Reimburse(marketing, r, 1, money("500.01", "USD"), "", cmdAt); domain.ErrorCode(err) != domain.EINVALID {
				t.Fatalf("more than claimed: %v", err)
			}
			return a.Reimburse(marketing, r, 1, money("400", "USD"), " ", cmdAt)
		}, domain.EINVALID, []string{"reason"}},
		{"the same receipt twice", func(t *testing.T) ([]domain.Event, error) {
			a := approvedRequest(t, day(0))
			events, err := a.AddReceipt(partner, r, 1, receiptPDF, cmdAt)
			applyMDF(t, a, events, err)
			return a.AddReceipt(partner, r, 1, receiptPDF, cmdAt)
		}, domain.ECONFLICT, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events, err := tc.run(t)
			require.Equal(t, tc.code, domain.ErrorCode(err), "%v", err)
			require.Empty(t, events)
			if tc.fields != nil {
				require.ElementsMatch(t, tc.fields, fieldNames(err))
			}
		})
	}
}

func TestQuarter(t *testing.T) {
	for in, want := range map[string]string{
		"2026-01-01T00:00:00Z": "2026-Q1", "2026-03-31T23:59:59Z": "2026-Q1", "2026-04-01T00:00:00Z": "2026-Q2",
		"2026-09-30T12:00:00Z": "2026-Q3", "2026-12-31T23:00:00-05:00": "2027-Q1",
	} {
		at, err := time.Parse(time.RFC3339, in)
		require.NoError(t, err)
		require.Equal(t, want, domain.Quarter(at), in)
	}
}
