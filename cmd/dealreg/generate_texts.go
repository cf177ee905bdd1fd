package main

import "github.com/dealreg/dealreg/domain"

// What people write in a partner program: the generator picks from these.

type rejectText struct {
	reason                domain.RejectReason
	explanation, guidance string
}

var genRejections = []rejectText{
	{domain.RejectRelationshipNotProven, "The registration shows no meeting with the buyer yet.", "Attach the meeting confirmation or the e-mail introduction and register again."},
	{domain.RejectNotQualified, "No budget or timeline has been identified for this project.", "Register again once the customer confirms a budget and a decision date."},
	{domain.RejectPoorSolutionFit, "The requirements point to a product line we do not sell in this region.", "Talk to your channel manager about the right product line before registering."},
	{domain.RejectExistingVendorRelation, "The customer buys directly from us under an enterprise agreement.", "Coordinate with the account team; they can involve you as a services partner."},
	{domain.RejectFirstContactOutOfWindow, "The first contact lies outside the window the program allows.", "Register opportunities within 90 days of the first contact."},
	{domain.RejectOther, "The opportunity is part of a global tender we answer ourselves.", "Ask your channel manager about joining the tender team."},
}

var genTerritoryRejection = rejectText{domain.RejectTerritoryNotAuthorized,
	"Another partner holds exclusive rights for this territory and vertical.",
	"Contact the territory holder about a joint engagement, or register accounts outside the grant."}

type returnText struct {
	message string
	fields  []string
}

var genReturns = []returnText{
	{"Please name the economic buyer and attach the discovery deliverable.", []string{"personal.decision_makers", "proof"}},
	{"Add the activities you carried out with the customer and their dates.", []string{"relationship.activities"}},
	{"The estimated value looks high for a company of this size: please confirm it.", []string{"opportunity.estimated_value"}},
	{"Tell us which product lines the customer evaluates and the next steps agreed.", []string{"opportunity.product_lines", "relationship.next_steps"}},
}

var genProducts = []string{"HR Management", "Payroll", "Analytics", "Inventory", "Fleet", "CRM", "Security Suite", "Data Platform", "Field Service", "Procurement"}

var genCompetitors = []string{"Oracle", "SAP", "Workday", "Salesforce", "Microsoft", "Infor", "a local integrator", "an in-house build"}

var genNextSteps = []string{
	"Technical workshop with the IT team", "Proposal review with procurement", "Reference call with an existing customer",
	"Security questionnaire and data-protection review", "Pilot with one business unit", "Commercial negotiation with the CFO",
	"Executive sponsor meeting", "Scoping session for the integration",
}

var genProgressNotes = []string{
	"The customer shortlisted us with one competitor.", "Budget approved by the board.", "Legal is reviewing the master agreement.",
	"The pilot met its success criteria.", "Procurement asked for a revised quote.", "New CIO joined; re-presenting the business case.",
}

var genWonNotes = []string{"Signed a 3-year subscription", "Signed after a successful pilot", "Purchase order received", "Won against the incumbent", ""}

var genLostReasons = []string{
	"The customer chose the incumbent vendor", "Budget frozen for the fiscal year", "Lost on price to a competitor",
	"The project was merged into a global programme", "The customer decided to build in-house",
}

var genWithdrawReasons = []string{
	"The project was cancelled by the customer", "Registered by mistake; the deal belongs to a sister company",
	"The customer postponed the initiative indefinitely", "",
}

var genExtensionReasons = []string{
	"The board postponed the decision by a month", "Security review by the customer takes three more weeks",
	"Procurement process restarted after a reorganisation", "The customer asked for a second pilot phase",
}

var genDenyReasons = []string{
	"No progress recorded since the approval", "The customer told us the project is on hold",
	"The extension would exceed the programme's limits for this deal size",
}

var genEvidence = []string{
	"We ran the discovery workshop with their finance team and hold the minutes.",
	"Our account manager has met the CIO three times since the first introduction.",
	"We delivered the proof of concept on their premises.",
	"The customer contacted us through our regional event and we scoped the project together.",
	"We have supported their current system for two years and were asked to propose the replacement.",
}

var genEvidenceRequests = []string{
	"Please send the meeting confirmation with the customer's buyer.",
	"Describe the work done with the customer so far, with dates.",
	"Attach the proposal you sent, if any.",
}

var genEscalations = []string{
	"Both partners show documented work; the policy does not settle it.",
	"The deal value is above the manager's authority.",
	"The partner disputes the recommendation.",
}

var genRationales = []string{
	"The first registrant documented its relationship before the others.",
	"Both partners show documented work with different buying centres.",
	"No party shows adequate proof of a relationship with the buyer.",
	"The direct team has an older, documented relationship with the customer.",
	"The partner brought the opportunity and carries the implementation.",
}
