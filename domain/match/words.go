package match

import "strings"

// legalForms lists legal-form designations in many jurisdictions, written as
// people type them; they are tokenised like names, so "S.A. de C.V.",
// "SA de CV" and "s. a. de c. v." are all covered by one entry. Words such as
// "group" and "holding" are included because partners add or drop them
// freely and they rarely tell two customers apart.
var legalForms = []string{
	// English-speaking countries.
	"inc", "incorporated", "corp", "corporation", "co", "company", "cos", "companies",
	"ltd", "limited", "llc", "l l c", "llp", "lp", "plc", "pllc", "pc", "ulc", "lc",
	"co ltd", "company limited", "pvt", "pvt ltd", "opc", "opc pvt ltd", "private limited", "pte", "pte ltd",
	"pty", "pty ltd", "proprietary", "proprietary limited", "sole proprietorship",
	"cic", "cio", "trust", "the",
	// Group and holding words.
	"group", "grupo", "groupe", "gruppe", "gruppo", "groep", "holding", "holdings",
	"sgps", "group holdings", "holding company",
	// German-speaking countries.
	"gmbh", "ggmbh", "mbh", "ag", "kg", "kgaa", "ohg", "gbr", "ug", "ev", "e v",
	"gmbh and co kg", "gmbh co kg", "ag and co kg", "gesmbh", "aktiengesellschaft",
	"gesellschaft mit beschrankter haftung",
	// Dutch and Belgian.
	"nv", "bv", "bvba", "vof", "cv", "cvba", "sprl", "scrl", "naamloze vennootschap",
	"besloten vennootschap",
	// French, Spanish, Portuguese, Italian and Latin America.
	"sa", "sas", "sasu", "sarl", "eurl", "sca", "snc", "sci", "sl", "slu", "sau", "sll",
	"spa", "srl", "sapa", "sas di", "scarl", "ltda", "lda", "lda", "sa de cv", "s de rl",
	"s de rl de cv", "sab de cv", "cia", "cie", "et cie", "me", "eireli", "epe", "su",
	"societe anonyme", "sociedad anonima", "sociedade anonima", "societa per azioni",
	"sociedad limitada", "societe par actions simplifiee", "limitee", "ltee",
	// Nordic countries.
	"ab", "publ", "ab publ", "oy", "oyj", "as", "asa", "aps", "a s", "ans", "hf", "ehf", "ks",
	// Central and Eastern Europe.
	"sp zoo", "spzoo", "sp z oo", "sa", "sro", "spol sro", "spol s ro", "as", "doo", "dd", "ad",
	"kft", "zrt", "nyrt", "bt", "ooo", "oao", "zao", "pao", "jsc", "ojsc", "pjsc", "cjsc",
	"srl", "sc", "sa", "as", "ltd sti", "sti", "ve ticaret", "sanayi ve ticaret",
	// Asia and Oceania.
	"kk", "kabushiki kaisha", "youxian gongsi", "gongsi", "jituan", "gufen youxian gongsi", "ltd sti", "kabushiki gaisha", "kabushikigaisha", "kabushikikaisha",
	"yugen kaisha", "godo kaisha", "gk", "yk", "sdn bhd", "bhd", "berhad", "sdn", "tbk",
	"pt", "pt tbk", "jsc", "llc", "co ltd", "company ltd", "corp ltd", "inc ltd",
	// European forms.
	"se", "sce", "eeig", "eig", "gie",
}

// legalByFirst indexes legalForms by first word for fast scanning.
var legalByFirst = func() map[string][][]string {
	m := map[string][][]string{}
	for _, f := range legalForms {
		ts := tokenize(f)
		seq := make([]string, len(ts))
		for i, t := range ts {
			seq[i] = t.text
		}
		if len(seq) == 0 {
			continue
		}
		m[seq[0]] = append(m[seq[0]], seq)
	}
	return m
}()

// stopWords are articles, prepositions and conjunctions in the supported
// languages; they carry no identity ("Bank of America" = "America Bank").
var stopWords = setOf(`a an and the of for in on at by to with from
de del dela della dello dei degli delle di da do dos das du des la le les el los las lo al e y et
und der die das den dem des fur von vom zu zur zum im am
van voor het een en op te bij
i og och af av
ve ile`)

// dictionary maps words of other languages and common abbreviations to one
// English spelling, so that Universidad de Lisboa and University of Lisbon
// share their words. It covers organisation vocabulary only, never the
// distinctive part of a name.
var dictionary = func() map[string]string {
	m := map[string]string{}
	add := func(canon, variants string) {
		for _, v := range strings.Fields(variants) {
			m[v] = canon
		}
		m[canon] = canon
	}
	add("university", "universidad universidade universite universitat universita universiteit uniwersytet univerzita universitet yliopisto univ")
	add("society", "sociedad sociedade societe societa gesellschaft vereniging sociedades sozietate")
	add("institute", "instituto institut istituto instytut ustav inst")
	add("center", "centre centro zentrum centrum centar centers centres keskus")
	add("laboratory", "laboratorio laboratoire labor laboratorium lab labs laboratori")
	add("national", "nacional nationale nazionale nationaal narodowy natl")
	add("international", "internatl intern internacional internationale internazionale intl int")
	add("technology", "gijutsu keji tecnologia tecnologias technologie technologien tecnologie tecnologico technological tech techn technologia technik technisch technische tecnica tecnico tecnicos tecnicas")
	add("research", "investigacion investigacao recherche forschung ricerca onderzoek pesquisa vyzkumny")
	add("company", "empresa empresas compagnie compania companhia compagnia firma")
	add("public", "publica publico publique offentlich pubblico pubblica publieke publicos publicas publikoa")
	add("water", "agua aguas eau eaux wasser acqua water")
	add("energy", "energia energie energi energetica")
	add("health", "salud saude sante gesundheit salute gezondheid")
	add("science", "ciencia ciencias sciences wissenschaft wissenschaften scienza scienze wetenschap sci")
	add("pharma", "yakuhin seiyaku yiyao farma pharmaceutical pharmaceuticals farmaceutica farmaceutico farmaceuticos farmaceuticas pharmazie pharmazeutische pharmaceutique farmaceutici pharm")
	add("system", "sistema sistemas systeme systemes systeem sistemi")
	add("service", "servicio servicios servico servicos dienst dienste diensten servizi servizio")
	add("hospital", "hopital ospedale krankenhaus ziekenhuis hospitais hospitales")
	add("bank", "banco banque banca bancaria")
	add("port", "puerto porto hafen haven haven")
	add("industry", "kogyo sangyo gongye nywerhede industria industrias industrie industrial industriale industriel industriais industriales indus ind")
	add("engineering", "ingenieria engenharia ingenierie ingegneria ingenieurwesen eng engg")
	add("medical", "medico medica medicos medicas medicale medizinisch medizinische medizin medicine medicina medecine med")
	add("development", "desarrollo desenvolvimento developpement entwicklung sviluppo ontwikkeling dev")
	add("innovation", "innovacion inovacao innovazione innovatie")
	add("management", "gestion gestao gestione mgmt mgt")
	add("environment", "ambiente ambiental ambientale environnement umwelt milieu environmental")
	add("agriculture", "agricultura agriculture agricoltura landwirtschaft agricola agricole agricultural")
	add("chemical", "kagaku huagong quimica quimico quimicos chimie chimica chemie chemicals chem")
	add("electric", "denki dianqi electrica electrico eletrica eletrico elettrica elettrico elektrisch elektrische electrique electrical elec")
	add("electronic", "electronica electronico eletronica eletronico elettronica electronique elektronik electronics")
	add("network", "red rede reseau netzwerk rete netwerk")
	add("foundation", "fundacion fundacao fondation stiftung fondazione stichting")
	add("association", "asociacion associacao verband associazione vereniging assn assoc")
	add("federal", "federale federaal")
	add("general", "generale generali gen")
	add("america", "american americas")
	add("europe", "europa european europeenne europaische europea europeo")
	add("china", "chinese zhongguo")
	add("japan", "japanese nippon nihon")
	add("germany", "deutschland deutsche deutsches german allemagne alemania")
	add("france", "french francaise francais")
	add("spain", "espana espanola espanol spanish")
	add("portugal", "portuguesa portugues portuguese")
	add("italy", "italia italiana italiano italian")
	add("netherlands", "nederland holland dutch nederlandse")
	add("brazil", "brasil brasileira brasileiro")
	add("mexico", "mexicana mexicano")
	add("canada", "canadian canadienne")
	add("lisbon", "lisboa")
	add("communication", "comunicacion comunicacao communications comunicazione kommunikation")
	add("transport", "transportes transporte transporti transports transportation")
	add("product", "produto produtos producto productos produit produits prodotti produkte")
	add("solution", "soluciones solucoes solutions loesungen losungen soluzioni")
	add("consulting", "consultoria conseil beratung consulenza consultants consultancy consultant")
	add("analytics", "analitica analytique analytik analytical")
	add("biotechnology", "biotecnologia biotechnologie biotech biotec")
	add("therapeutics", "therapeutic therapeutique terapeutica")
	add("diagnostics", "diagnostic diagnostica diagnostico diagnostik")
	add("software", "logiciel")
	add("information", "informacion informacao informatique informatica informatik")
	add("school", "escuela escola ecole schule scuola school")
	add("college", "colegio")
	add("academy", "academia academie akademie accademia")
	add("hydrology", "hidrologia hydrologie idrologia")
	add("book", "livro livros libro libros livre livres buch bucher boek")
	add("nature", "natureza naturaleza natur natuur")
	add("council", "conselho consejo conseil consiglio rat")
	add("office", "oficina escritorio bureau buro ufficio")
	add("administration", "administracao administracion verwaltung amministrazione")
	add("ministry", "ministerio ministere ministerium ministero")
	add("agency", "agencia agence agentur agenzia")
	add("welding", "soldadura soldagem soudage schweissen saldatura svarecsky")
	add("security", "seguridad seguranca securite sicherheit sicurezza sigurnosti")
	add("coordination", "coordinacion coordenacao koordination coordinamento koordinaciju")
	add("marketing", "mercadotecnia")
	add("distribution", "distribuidora distribuidor distribucion distribuicao distributor")
	add("production", "producoes producciones productions produzioni")
	add("event", "eventos eventi evenements")
	add("institution", "institucion instituicao")
	add("railway", "ferrocarril ferrovia railways railroad")
	add("atomic", "atomique atomica atomico atom")
	add("steel", "acero aceros aco acciaio stahl")
	add("special", "especial especiales especiais speciale")
	add("free", "livre livres libre libres")
	add("dental", "dentario dentaria dentale")
	add("coast", "litoral costa cote kuste")
	add("world", "mundial mondial")
	add("new", "nuevo nueva novo nova nouveau nouvelle neue")
	add("mining", "mineria mineracao miniere")
	add("metallurgy", "metalurgia metallurgie")
	add("insurance", "seguros seguro assurance assurances versicherung assicurazioni")
	add("financial", "financiera financeira financiere financial finanziaria")
	add("investment", "inversiones investimentos investissement investments")
	add("power", "potencia")
	add("technical", "tecnico tecnicos tecnica tecnicas technique techniques technisch technischen tecnici")
	add("publisher", "editora editores editorial edicoes ediciones editions edizioni verlag uitgeverij publishing publishers")
	add("education", "educacao educacion enseignement bildung istruzione onderwijs")
	add("training", "formacao formacion formation ausbildung formazione opleiding")
	add("park", "parque parc parco")
	add("trade", "comercio commerce handel commercio trading")
	add("furniture", "mobiliario muebles meubles mobili mobel")
	add("documentation", "documentacao documentacion dokumentation documentazione")
	add("study", "estudos estudios etudes studien studi")
	add("work", "trabalhos trabajos travaux arbeiten lavori works")
	add("synthetic", "sinteticos sinteticas sinteticos synthetique synthetics")
	add("lawyer", "abogados advogados avocats anwalte avvocati advocaten")
	add("bookshop", "livraria libreria librairie buchhandlung")
	add("royal", "koninklijke real royale konigliche reale")
	add("motor", "jidosha motors automobile")
	add("scientific", "cientifico cientifica scientifique wissenschaftlich scientifico")
	add("economic", "economica economico economique wirtschaft economics")
	add("cooperative", "cooperativa cooperatief genossenschaft cooperativo")
	add("planning", "planificacion planeamento planification planung pianificazione")
	add("design", "diseno desenho")
	add("clinic", "clinica clinicas clinique cliniques klinik kliniken kliniek clinico clinics")
	return m
}()

// genericWords are canonical words that describe what an organisation does
// or where it is rather than who it is. They weigh less in a comparison, and
// a name made only of them ("Advanced Engineering") is never enough for a
// confident match.
var genericWords = setOf(`technology research system service international global engineering medical
energy institute university center laboratory science pharma biotechnology bio therapeutics health
healthcare hospital clinic clinical development industry solution consulting management network
software data digital innovation advanced applied national public society association foundation
council agency office authority ministry department school college academy bank financial finance
capital investment insurance trading trade commerce commercial product manufacturing material chemical
electric electronic power oil gas water environment food agriculture construction design planning
transport logistics communication telecom media publishing press marketing resource mining metal steel
automotive motor machine machinery equipment instrument device diagnostics genetic genomics analytics
computing information care life new general united first partner associate enterprise venture
venture industries business biosciences bioscience biomedical molecular cell neuro photonics optical
optic semiconductor micro nano robotics automation aerospace defence defense satellite space
quantum chemistry physics biology medicine life sciences study studies education learning training
federal state regional city municipal community cooperative union alliance institution center
world america europe asia africa china japan germany france spain portugal italy netherlands brazil
mexico canada india korea australia russia uk usa us england britain british scotland ireland
north south east west central western eastern northern southern pacific atlantic
shanghai beijing shenzhen guangzhou tianjin hangzhou nanjing wuhan chengdu jiangsu zhejiang shandong
guangdong tokyo osaka seoul taipei taiwan hong kong singapore london paris berlin madrid lisbon porto rome
milan amsterdam brussels vienna zurich geneva stockholm oslo copenhagen helsinki warsaw prague
new york california texas boston san francisco
monterrey guadalajara puebla tijuana bogota medellin    valparaiso buenos aires  
montevideo asuncion quito guayaquil caracas havana     brasilia   recife
curitiba campinas barcelona  sevilla seville bilbao zaragoza malaga  munich hamburg frankfurt 
stuttgart dusseldorf leipzig dresden lyon marseille toulouse  lille bordeaux nantes strasbourg naples turin
 bologna genoa venice manchester birmingham liverpool leeds glasgow edinburgh    dublin
antwerp rotterdam utrecht eindhoven    lausanne gothenburg    krakow wroclaw gdansk
budapest bucharest  athens istanbul ankara   nairobi johannesburg   delhi mumbai bangalore
chennai kolkata hyderabad karachi lahore dhaka bangkok jakarta manila hanoi kuala lumpur sydney melbourne brisbane
 auckland toronto montreal vancouver  ottawa chicago     seattle  
philadelphia detroit minneapolis
pharma medtech biotech labs laboratory therapeutic oncology imaging vision sensor sensors
infrastructure property properties realty estate home homes house project projects plus pro
one two three smart green blue red gold star sun royal premier prime standard universal
dental coast special atomic book nature railway welding security coordination distribution production event
hydrology free metallurgy administration technical publisher education training park furniture documentation
study work synthetic lawyer bookshop royal scientific economic cooperative clinic`)

func setOf(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}
