package match

import (
	"sort"
	"sync"
)

// Knowledge holds decisions reviewers took on earlier duplicate checks, so
// that the matcher does not ask the same question twice: names known to be
// one account (aliases, former names, brands), pairs known to be different
// accounts despite similar names, and extra web domains of an account.
// Names are keyed by their normalised form, so a decision on "Acme GmbH"
// also covers "ACME" and "Acme G.m.b.H.". The zero value is not usable; call
// NewKnowledge. Knowledge is safe for concurrent use.
type Knowledge struct {
	mu       sync.RWMutex
	parent   map[string]string   // union-find over normalised names
	members  map[string][]string // root -> sorted normalised names of its group
	distinct map[[2]string]bool  // sorted pairs of normalised names
	domains  map[string]string   // registrable domain -> normalised name
}

// NewKnowledge returns an empty Knowledge.
func NewKnowledge() *Knowledge {
	return &Knowledge{
		parent:   map[string]string{},
		members:  map[string][]string{},
		distinct: map[[2]string]bool{},
		domains:  map[string]string{},
	}
}

// AddAlias records that two names denote the same account (a reviewer
// confirmed it, or the customer was renamed). Aliases are transitive.
func (k *Knowledge) AddAlias(a, b string) {
	ka, kb := Normalise(a), Normalise(b)
	if ka == "" || kb == "" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	ra, rb := k.root(ka), k.root(kb)
	if ra == rb {
		return
	}
	if rb < ra {
		ra, rb = rb, ra
	}
	k.parent[rb] = ra
	m := append(k.members[ra], k.members[rb]...)
	sort.Strings(m)
	k.members[ra] = m
	delete(k.members, rb)
}

// AddDistinct records that two names denote different accounts; it
// overrides any similarity the names have.
func (k *Knowledge) AddDistinct(a, b string) {
	ka, kb := Normalise(a), Normalise(b)
	if ka == "" || kb == "" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.distinct[pairKey(ka, kb)] = true
}

// AddDomain records that the account called name also owns domain (a
// second brand, a country site), so that the domain matches the name.
func (k *Knowledge) AddDomain(name, domain string) {
	kn := Normalise(name)
	d := parseDomain(domain)
	if kn == "" || d.registrable == "" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.domains[d.registrable] = kn
}

// Aliases returns the normalised names known to denote the same account as
// name (including its own), sorted; an Index uses it to find candidates
// whose names share nothing with the query.
func (k *Knowledge) Aliases(name string) []string {
	kn := Normalise(name)
	if k == nil || kn == "" {
		return nil
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	if _, ok := k.parent[kn]; !ok {
		return []string{kn}
	}
	return append([]string(nil), k.members[k.root(kn)]...)
}

func pairKey(a, b string) [2]string {
	if b < a {
		a, b = b, a
	}
	return [2]string{a, b}
}

// root finds the representative of a name's alias group, registering the
// name if it is new. Callers hold the write lock.
func (k *Knowledge) root(x string) string {
	if _, ok := k.parent[x]; !ok {
		k.parent[x] = x
		k.members[x] = []string{x}
		return x
	}
	for k.parent[x] != x {
		k.parent[x] = k.parent[k.parent[x]]
		x = k.parent[x]
	}
	return x
}

// find is root for readers: it never registers anything.
func (k *Knowledge) find(x string) (string, bool) {
	if _, ok := k.parent[x]; !ok {
		return "", false
	}
	for k.parent[x] != x {
		x = k.parent[x]
	}
	return x, true
}

func (k *Knowledge) sameGroup(a, b string) bool {
	ra, oka := k.find(a)
	rb, okb := k.find(b)
	return oka && okb && ra == rb
}

func (k *Knowledge) group(x string) []string {
	if r, ok := k.find(x); ok {
		return k.members[r]
	}
	return []string{x}
}

func (k *Knowledge) isDistinct(a, b string) bool {
	if k.distinct[pairKey(a, b)] {
		return true
	}
	for _, x := range k.group(a) {
		for _, y := range k.group(b) {
			if k.distinct[pairKey(x, y)] {
				return true
			}
		}
	}
	return false
}

// knowledgeHit is what reviewers decided about a pair of accounts.
type knowledgeHit struct {
	distinct, alias, domain bool
	detail                  string
}

// lookup finds the reviewers' decisions on two accounts: a recorded "not
// the same" wins, then an alias, then a domain the account owns.
func (k *Knowledge) lookup(a, b *prepared) knowledgeHit {
	k.mu.RLock()
	defer k.mu.RUnlock()
	var ka, kb string
	if a.name != nil {
		ka = a.name.key
	}
	if b.name != nil {
		kb = b.name.key
	}
	if ka != "" && kb != "" && k.isDistinct(ka, kb) {
		return knowledgeHit{distinct: true, detail: ka + " / " + kb}
	}
	if ka != "" && kb != "" && ka != kb && k.sameGroup(ka, kb) {
		return knowledgeHit{alias: true, detail: ka + " = " + kb}
	}
	for _, c := range []struct {
		n string
		d webDomain
	}{{ka, b.domain}, {kb, a.domain}} {
		if c.n == "" || c.d.registrable == "" {
			continue
		}
		if owner, ok := k.domains[c.d.registrable]; ok && (owner == c.n || k.sameGroup(owner, c.n)) {
			return knowledgeHit{domain: true, detail: c.n + " owns " + c.d.registrable}
		}
	}
	return knowledgeHit{}
}
