// gen_db: a deterministic generator of realistic SQLite databases for the
// benchmark (issue 5).
//
//   gen_db --out PATH [--size 100M|1G|4G|BYTES] [--seed N]
//
// Same seed and size → same logical content (row for row; the file is the
// same bytes too with the same SQLite version). The schema looks like the
// application's: users, products, orders, order_items, events, audit_log,
// documents, sessions, translations, with secondary indexes. Text comes from a
// built-in vocabulary with a skewed (Zipf-like) word choice, names, e-mail
// addresses, JSON-ish payloads and some random hex ids, mixed so that
// `gzip -6` reaches about 3.4x on the finished file. The database is left in
// WAL mode, checkpointed (no -wal content), with a normal page size (4096),
// vacuumed (each table's pages contiguous). Needs twice the size free while
// it runs (a scratch file PATH.gen-tmp is removed at the end).
//
// Prints one line of JSON on stdout: path, bytes, tables, indexes, rows per
// table, seconds. Progress goes to stderr. Exit 0 on success, 1 on failure,
// 2 on usage errors. Refuses to overwrite an existing file.
#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <cctype>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

// splitmix64: tiny, fast, and its output is fixed forever for a given seed.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return n ? Next() % n : 0; }
  double Unit() { return (Next() >> 11) * (1.0 / 9007199254740992.0); }
  // Skewed index in [0, n): small indexes are much more frequent.
  uint64_t Skewed(uint64_t n) {
    double u = Unit();
    return static_cast<uint64_t>(u * u * u * u * static_cast<double>(n));
  }
};

constexpr const char* kWords[] = {
    "the", "of", "and", "to", "in", "for", "is", "on", "that", "by", "this", "with", "you", "it",
    "not", "or", "be", "are", "from", "at", "as", "your", "all", "have", "new", "more", "an",
    "was", "we", "will", "home", "can", "us", "about", "if", "page", "my", "has", "search",
    "free", "but", "our", "one", "other", "do", "no", "information", "time", "they", "site", "up",
    "may", "what", "which", "their", "news", "out", "use", "any", "there", "see", "only", "so",
    "when", "contact", "here", "business", "who", "web", "also", "now", "help", "get", "view",
    "online", "first", "been", "would", "how", "were", "some", "these", "click", "its", "like",
    "service", "than", "find", "price", "date", "back", "top", "people", "had", "list", "name",
    "just", "over", "state", "year", "day", "into", "email", "two", "health", "world", "next",
    "used", "go", "work", "last", "most", "products", "music", "buy", "data", "make", "them",
    "should", "product", "system", "post", "city", "add", "policy", "number", "such", "please",
    "available", "support", "message", "after", "best", "software", "then", "good", "video",
    "well", "where", "info", "rights", "public", "books", "high", "school", "through", "each",
    "links", "review", "years", "order", "very", "privacy", "book", "items", "company", "read",
    "group", "need", "many", "user", "said", "does", "set", "under", "general", "research",
    "university", "mail", "full", "map", "reviews", "program", "life", "know", "games", "way",
    "days", "management", "part", "could", "great", "united", "hotel", "real", "item",
    "international", "center", "must", "store", "travel", "comments", "made", "development",
    "report", "off", "member", "details", "line", "terms", "before", "hotels", "did", "send",
    "right", "type", "because", "local", "those", "using", "results", "office", "education",
    "national", "car", "design", "take", "posted", "internet", "address", "community", "within",
    "states", "area", "want", "phone", "shipping", "reserved", "subject", "between", "forum",
    "family", "long", "based", "code", "show", "even", "black", "check", "special", "prices",
    "website", "index", "being", "much", "sign", "file", "link", "open", "today", "technology",
    "south", "case", "project", "same", "pages", "version", "section", "own", "found", "sports",
    "house", "related", "security", "both", "county", "photo", "game", "members", "power",
    "while", "care", "network", "down", "computer", "systems", "three", "total", "place", "end",
    "following", "download", "without", "per", "access", "think", "north", "resources", "current",
    "posts", "big", "media", "law", "control", "water", "history", "pictures", "size", "art",
    "personal", "since", "including", "guide", "shop", "directory", "board", "location", "change",
    "white", "text", "small", "rating", "rate", "government", "during", "return", "students",
    "shopping", "account", "times", "sites", "level", "digital", "profile", "previous", "form",
    "events", "love", "old", "main", "call", "hours", "image", "department", "title",
    "description", "another", "why", "property", "class", "still", "money", "quality", "every",
    "listing", "content", "country", "private", "little", "visit", "save", "tools", "low",
    "reply", "customer", "compare", "include", "college", "value", "article", "card", "jobs",
    "provide", "food", "source", "author", "different", "press", "learn", "sale", "around",
    "print", "course", "job", "process", "room", "stock", "training", "credit", "point", "join",
    "science", "categories", "advanced", "west", "sales", "look", "english", "left", "team",
    "estate", "box", "conditions", "select", "photos", "thread", "week", "category", "note",
    "live", "large", "gallery", "table", "register", "however", "market", "library", "really",
    "action", "start", "series", "model", "features", "air", "industry", "plan", "human",
    "provided", "required", "second", "cost", "movie", "forums", "better", "questions", "going",
    "medical", "test", "friend", "come", "server", "study", "application", "cart", "staff",
    "articles", "again", "play", "looking", "issues", "never", "users", "complete", "street",
    "topic", "comment", "financial", "things", "working", "against", "standard", "tax", "person",
    "below", "mobile", "less", "blog", "party", "payment", "equipment", "login", "student",
    "programs", "offers", "legal", "above", "recent", "park", "stores", "side", "problem", "give",
    "memory", "performance", "social", "quote", "language", "story", "options", "experience",
    "rates", "create", "key", "body", "young", "important", "field", "few", "east", "paper",
    "single", "age", "activities", "club", "example", "additional", "password", "latest",
    "something", "road", "gift", "question", "changes", "night", "hard", "pay", "four", "status",
    "browse", "issue", "range", "building", "seller", "court", "always", "result", "audio",
    "light", "write", "offer", "blue", "groups", "easy", "given", "files", "event", "release",
    "analysis", "request", "making", "picture", "needs", "possible", "professional", "month",
    "major", "star", "areas", "future", "space", "committee", "hand", "cards", "problems",
    "meeting", "become", "interest", "child", "keep", "enter", "share", "similar", "garden",
    "schools", "million", "added", "reference", "companies", "listed", "learning", "energy",
    "run", "delivery", "net", "popular", "term", "film", "stories", "put", "journal", "reports",
    "try", "welcome", "central", "images", "notice", "original", "head", "radio", "until",
    "color", "council", "away", "includes", "track", "discussion", "archive", "once", "others",
    "agreement", "format", "least", "society", "months", "log", "safety", "friends", "sure",
    "trade", "edition", "messages", "marketing", "tell", "further", "updated", "association",
    "able", "having", "provides", "already", "green", "studies", "close", "common", "drive",
    "specific", "several", "gold", "living", "collection", "called", "short", "display",
    "limited", "solutions", "means", "director", "daily", "past", "natural", "whether", "due",
    "electronics", "five", "upon", "period", "planning", "database", "official", "weather",
    "land", "average", "done", "technical", "window", "region", "island", "record", "direct",
    "conference", "environment", "records", "district", "calendar", "costs", "style", "url",
    "front", "statement", "update", "parts", "early", "sound", "resource", "present",
    "applications", "either", "document", "word", "works", "material", "written", "federal",
    "hosting", "rules", "final", "tickets", "thing", "requirements", "via", "kids", "finance",
    "true", "minutes", "mark", "third", "gifts", "reading", "topics", "individual", "tips",
    "plus", "cover", "usually", "edit", "together", "percent", "fast", "function", "fact", "unit",
    "getting", "global", "meet", "economic", "player", "projects", "often", "subscribe", "submit",
    "amount", "watch", "included", "feel", "bank", "risk", "thanks", "everything", "deals",
    "various", "words", "production", "commercial", "weight", "town", "heart", "received",
    "choose", "treatment", "newsletter", "archives", "points", "knowledge", "magazine", "error",
    "camera", "currently", "construction", "registered", "clear", "receive", "domain", "methods",
    "chapter", "makes", "protection", "policies", "loan", "wide", "position", "taken", "sort",
    "listings", "models", "known", "half", "cases", "step", "engineering", "simple", "quick",
    "none", "wireless", "license", "annual", "published", "later", "basic", "shows", "corporate",
    "method", "purchase", "customers", "active", "response", "practice", "hardware", "figure",
    "materials", "holiday", "chat", "enough", "designed", "along", "among", "writing", "speed",
    "countries", "loss", "face", "brand", "discount", "higher", "effects", "created", "remember",
    "standards", "bit", "political", "increase", "base", "near", "environmental", "thought",
    "storage", "doing", "entry", "stay", "nature", "orders", "availability", "summary", "turn",
    "mean", "growth", "notes", "agency", "activity", "copy", "although", "income", "force",
    "cash", "employment", "overall", "river", "commission", "package", "contents", "seen",
    "players", "engine", "port", "album", "regional", "stop", "supplies", "started",
    "administration", "institute", "views", "plans", "double", "build", "screen", "exchange",
    "types", "soon", "lines", "electronic", "continue", "across", "benefits", "needed", "season",
    "apply", "someone", "held", "anything", "condition", "effective", "believe", "organization",
    "effect", "asked", "mind", "selection", "lost", "tour", "menu", "volume", "cross", "anyone",
    "hope", "inside", "solution", "role", "rather", "weeks", "addition", "came", "supply",
    "nothing", "certain", "executive", "running", "lower", "necessary", "union", "according",
    "particular", "fine", "names", "hour", "skills", "six", "advice", "career", "decision",
    "leave", "middle", "move", "cable", "opportunities", "taking", "values", "division", "coming",
    "object", "appropriate", "machine", "length", "actually", "score", "statistics", "client",
    "returns", "capital", "follow", "sample", "investment", "sent", "shown", "culture", "choice",
    "starting", "registration", "courses", "consumer", "foreign", "artist", "outside", "levels",
    "channel", "letter", "mode", "ideas", "structure", "fund", "summer", "allow", "degree",
    "contract", "button", "releases", "homes", "custom", "almost", "took", "located", "multiple",
    "distribution", "editor", "industrial", "cause", "potential", "song", "focus", "late", "fall",
    "featured", "idea", "rooms", "responsible", "communications", "associated", "primary",
    "numbers", "reason", "tool", "browser", "spring", "foundation", "answer", "voice", "schedule",
    "documents", "communication", "purpose", "feature", "comes", "everyone", "independent",
    "approach", "physical", "operating", "maps", "deal", "hold", "ratings", "forms", "glass",
    "happy", "developed", "safe", "unique", "survey", "prior", "telephone", "sport", "ready",
    "feed", "sources", "population", "regular", "secure", "navigation", "operations", "therefore",
    "simply", "evidence", "station", "round", "favorite", "understand", "option", "master",
    "recently", "probably", "built", "publications", "improve", "connection", "publisher",
    "larger", "networks", "impact", "transfer", "introduction", "kitchen", "strong", "properties",
    "ground", "overview", "accommodation", "owners", "excellent", "paid", "perfect",
    "opportunity", "classic", "basis", "command", "express", "award", "distance", "assessment",
    "ensure", "involved", "extra", "especially", "interface", "partners", "budget", "rated",
    "guides", "success", "maximum", "operation", "existing", "quite", "selected", "patients",
    "beautiful", "warning", "locations", "forward", "significant", "lists", "technologies",
    "owner", "retail", "useful", "directly", "manufacturer", "ways", "providing", "rule",
    "housing", "takes", "bring", "catalog", "searches", "trying", "authority", "considered",
    "traffic", "joined", "input", "strategy", "agent", "valid", "modern", "senior", "teaching",
    "grand", "testing", "trial", "charge", "units", "instead", "normal", "enterprise", "entire",
    "educational", "leading", "positive", "opinion", "output", "funds", "greater", "likely",
    "develop", "employees", "alternative", "processing", "responsibility", "resolution", "guest",
    "publication", "pass", "relations", "trust", "contains", "session", "photography", "republic",
    "fees", "components", "century", "academic", "assistance", "completed", "graphics",
    "expected", "grade", "pacific", "organizations", "filter", "mailing", "vehicle", "longer",
    "consider", "northern", "panel", "floor", "buying", "match", "proposed", "default", "require",
    "outdoor", "morning", "otherwise", "allows", "rest", "reported", "transportation", "politics",
    "partner", "disclaimer", "authors", "boards", "faculty", "parties", "membership", "mission",
    "string", "sense", "modified", "pack", "released", "stage", "internal", "goods",
    "recommended", "unless", "detailed", "background", "target", "except", "character",
    "maintenance", "ability", "maybe", "functions", "moving", "brands", "places", "southern",
    "yourself", "winter", "battery", "pressure", "submitted", "keywords", "medium", "television",
    "interested", "core", "break", "purposes", "throughout", "sets", "wood", "itself", "defined",
    "papers", "playing", "awards", "fee", "studio", "reader", "virtual", "device", "established",
    "answers", "remote", "programming", "external", "regarding", "instructions", "offered",
    "theory", "enjoy", "remove", "surface", "minimum", "visual", "host", "variety", "manual",
    "block", "subjects", "agents", "increased", "repair", "fair", "civil", "understanding",
    "fixed", "wrong", "beginning", "finally", "updates", "desktop", "classes", "sector",
    "capacity", "requires", "fully", "electric", "instruments", "quotes", "officer", "driver",
    "businesses", "respect", "unknown", "specified", "worth", "procedures", "teacher",
    "relationship", "workers", "traditional", "campus", "showing", "creative", "coast", "benefit",
    "progress", "funding", "devices", "grant", "agree", "fiction", "sometimes", "careers",
    "beyond", "families", "museum", "transport", "interesting", "evaluation", "accepted",
    "former", "implementation", "complex", "galleries", "references", "presented", "flat", "flow",
    "agencies", "literature", "respective", "parent", "setting", "scale", "stand", "economy",
    "highest", "helpful", "monthly", "critical", "frame", "definition", "secretary", "networking",
    "path", "employee", "chief", "bottom", "packages", "detail", "laws", "changed", "begin",
    "individuals", "relevant", "guidelines", "connect", "applied", "weekly", "installation",
    "described", "demand", "suite", "square", "attention", "advance", "difference", "allowed",
    "correct", "nation", "selling", "piece", "sheet", "firm", "older", "regulations", "elements",
    "species", "cells", "module", "facility", "random", "pricing", "certificate", "motion",
    "fashion", "directions", "visitors", "documentation", "monitor", "trading", "forest", "calls",
    "whose", "coverage", "couple", "giving", "chance", "vision", "ending", "clients", "actions",
    "listen", "discuss", "accept", "goal", "successful", "sold", "communities", "situation",
    "markets", "lowest", "highly", "publishing", "emergency", "developing", "currency",
    "determine", "temperature", "patient", "actual", "historical", "commerce", "perhaps",
    "difficult", "scientific", "satellite", "tests", "village", "accounts", "factors", "settings",
    "buyer", "cultural", "easily", "functional", "closed", "balance", "monitoring", "graduate",
    "architecture", "initial", "label", "thinking", "recommend", "league", "minute", "provider",
    "optional", "dictionary", "accounting", "manufacturing", "sections", "effort", "phase",
    "fields", "letters", "context", "install", "generally", "continued", "count", "techniques",
    "quickly", "claim", "permission", "generation", "task", "reduce", "component", "enable",
    "exercise", "guarantee", "leader", "processes", "servers", "meetings", "seconds", "interests",
    "flight", "produced", "supported", "premium", "providers", "fresh", "characters", "upgrade",
    "factor", "growing", "stream", "entries", "dates", "generated", "signed", "upper",
    "administrative", "serious", "prime", "limit", "began", "steps", "errors", "efforts",
    "informed", "worked", "quantity", "urban", "practices", "sorted", "reporting", "essential",
    "platform", "load", "affiliate", "immediately", "admin", "machines", "designated", "tags",
    "heavy", "covered", "recovery", "integrated", "configuration", "merchant", "comprehensive",
    "expert", "universal", "protect", "solid", "presentation", "languages", "became",
    "compliance", "vehicles", "prevent", "theme", "campaign", "improvement", "finding",
    "examples", "challenge", "acceptance", "strategies", "seem", "affairs", "touch", "intended",
    "towards", "goals", "election", "suggest", "branch", "charges", "serve", "reasons", "smart",
    "manage", "corner", "rank", "computing", "element", "interactive", "requests", "separate",
    "quarter", "procedure", "leadership", "tables", "define", "facts", "column", "chain",
    "developer", "identify", "missing", "domestic", "recommendations", "moved", "reach",
    "comparison", "viewed", "moment", "extended", "sequence", "opening", "damage", "reserve",
    "produce", "placed", "counter", "failure", "follows", "weekend", "automatically", "films",
    "bridge", "native", "fill", "movement", "printing", "owned", "approval", "draft", "chart",
    "played", "contacts", "readers", "equal", "offering", "profit", "leaders", "institutions",
    "assistant", "variable", "expect", "parking", "compared", "determined", "wholesale",
    "workshop", "codes", "kinds", "extension", "statements", "completely", "teams", "lighting",
    "forces",};
constexpr size_t kNumWords = sizeof(kWords) / sizeof(kWords[0]);

constexpr const char* kFirst[] = {
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Charles", "Karen", "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty",
    "Anthony", "Margaret", "Mark", "Sandra", "Donald", "Ashley", "Steven", "Kimberly", "Paul",
    "Emily", "Andrew", "Donna", "Joshua", "Michelle", "Kenji", "Yuki", "Olga", "Ivan", "Aisha",
    "Omar", "Fatima", "Carlos", "Lucia", "Mateo", "Sofia", "Liam", "Noah", "Emma", "Olivia",
    "Chen", "Wei", "Priya", "Arjun", "Amara", "Kwame", "Ingrid", "Lars", "Giulia", "Marco"};
constexpr const char* kLast[] = {
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Tanaka", "Suzuki", "Ivanova", "Petrov",
    "Okafor", "Mensah", "Haddad", "Rossi", "Bianchi", "Muller", "Schmidt", "Larsen", "Kowalski"};
constexpr const char* kCountries[] = {"US", "GB", "DE", "FR", "ES", "IT", "NL", "SE", "PL", "JP",
                                      "CN", "IN", "BR", "MX", "CA", "AU", "NG", "ZA", "KR", "AR"};
constexpr const char* kDomains[] = {"example.com", "mail.example.org", "corp.example.net",
                                    "gmail.test", "outlook.test", "proton.test", "uni.edu.test"};
constexpr const char* kStatuses[] = {"pending", "paid", "shipped", "delivered", "cancelled",
                                     "refunded", "on_hold"};
constexpr const char* kEventTypes[] = {
    "page_view", "click", "login", "logout", "search", "add_to_cart", "remove_from_cart",
    "checkout_start", "checkout_complete", "signup", "password_reset", "api_call", "error"};
constexpr const char* kActions[] = {"create", "update", "delete", "read", "grant", "revoke",
                                    "export", "import", "approve", "reject"};
constexpr const char* kEntities[] = {"user", "order", "product", "document", "session",
                                     "invoice", "setting", "role", "translation"};
constexpr const char* kLangs[] = {"en", "de", "fr", "es", "it", "pt", "nl", "ja", "zh", "ru"};
constexpr const char* kAgents[] = {
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 Version/17.2 Safari/605.1.15",
    "okhttp/4.12.0", "python-requests/2.31.0", "curl/8.5.0"};

// A word among the `n` most frequent ones (all of them if n is larger).
const char* W(Rng& r, uint64_t n) { return kWords[r.Skewed(n < kNumWords ? n : kNumWords)]; }

template <size_t N>
const char* Pick(Rng& r, const char* const (&arr)[N]) {
  return arr[r.Below(N)];
}

class Text {
 public:
  explicit Text(Rng& r) : r_(r) {}
  void Words(std::string& out, int n) {
    for (int i = 0; i < n; i++) {
      if (i) out += ' ';
      out += kWords[r_.Skewed(kNumWords)];
    }
  }
  std::string Sentence(int lo, int hi) {
    std::string s;
    Words(s, static_cast<int>(lo + r_.Below(hi - lo + 1)));
    if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    s += '.';
    return s;
  }
  // Like real documents, text repeats itself: most sentences come from a
  // pool of boilerplate (kPoolShare percent), the rest are fresh.
  // A sentence from the boilerplate pool.
  const std::string& Boiler() {
    if (pool_.empty())
      for (int i = 0; i < kPoolSize; i++) pool_.push_back(Sentence(5, 18));
    return pool_[r_.Skewed(kPoolSize)];
  }
  std::string Paragraphs(int sentences) {
    std::string s;
    for (int i = 0; i < sentences; i++) {
      if (i) s += (r_.Below(6) == 0) ? "\n\n" : " ";
      if (static_cast<int>(r_.Below(100)) < kPoolShare)
        s += Boiler();
      else
        s += Sentence(5, 18);
    }
    return s;
  }
  static constexpr int kPoolSize = 400;
  static constexpr int kPoolShare = 80;
  std::string Hex(int n) {
    static const char* d = "0123456789abcdef";
    std::string s(n, '0');
    for (int i = 0; i < n; i++) s[i] = d[r_.Below(16)];
    return s;
  }
  std::string Uuid() {
    std::string h = Hex(32);
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-4" + h.substr(13, 3) + "-a" +
           h.substr(17, 3) + "-" + h.substr(20, 12);
  }
  std::string Ip() {
    return std::to_string(10 + r_.Below(200)) + "." + std::to_string(r_.Below(256)) + "." +
           std::to_string(r_.Below(256)) + "." + std::to_string(1 + r_.Below(254));
  }
  // ISO 8601 timestamp within 2023-2026, increasing with `base` plus jitter.
  std::string Time(int64_t base_s) {
    time_t t = static_cast<time_t>(1672531200 + base_s + static_cast<int64_t>(r_.Below(600)));
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }

 private:
  Rng& r_;
  std::vector<std::string> pool_;
};

struct Usage {
  int code;
};

uint64_t ParseSize(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || v <= 0) throw Usage{2};
  std::string suf(end);
  double mul = 1;
  if (suf == "" || suf == "B") mul = 1;
  else if (suf == "K" || suf == "KB" || suf == "KiB") mul = 1 << 10;
  else if (suf == "M" || suf == "MB" || suf == "MiB") mul = 1 << 20;
  else if (suf == "G" || suf == "GB" || suf == "GiB") mul = 1ull << 30;
  else throw Usage{2};
  return static_cast<uint64_t>(v * mul);
}

sqlite3* g_db = nullptr;

void Check(int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "gen_db: %s: %s\n", what, g_db ? sqlite3_errmsg(g_db) : "?");
    std::exit(1);
  }
}

void Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(g_db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "gen_db: %s: %s\n", sql, err ? err : "?");
    std::exit(1);
  }
}

struct Stmt {
  sqlite3_stmt* s = nullptr;
  int i = 0;
  explicit Stmt(const char* sql) { Check(sqlite3_prepare_v2(g_db, sql, -1, &s, nullptr), sql); }
  ~Stmt() { sqlite3_finalize(s); }
  Stmt& Int(int64_t v) {
    sqlite3_bind_int64(s, ++i, v);
    return *this;
  }
  Stmt& Real(double v) {
    sqlite3_bind_double(s, ++i, v);
    return *this;
  }
  Stmt& Str(const std::string& v) {
    sqlite3_bind_text(s, ++i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Null() {
    sqlite3_bind_null(s, ++i);
    return *this;
  }
  void Run() {
    Check(sqlite3_step(s), "insert");
    sqlite3_reset(s);
    i = 0;
  }
};

int64_t PageBytes() {
  sqlite3_stmt* s;
  Check(sqlite3_prepare_v2(g_db, "PRAGMA page_count", -1, &s, nullptr), "page_count");
  sqlite3_step(s);
  int64_t pages = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return pages * 4096;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out;
  uint64_t target = 100ull << 20;
  uint64_t seed = 42;
  try {
    for (int i = 1; i < argc; i++) {
      std::string a = argv[i];
      auto val = [&]() -> std::string {
        if (i + 1 >= argc) throw Usage{2};
        return argv[++i];
      };
      if (a == "--out") out = val();
      else if (a == "--size") target = ParseSize(val());
      else if (a == "--seed") seed = std::stoull(val());
      else if (a == "-h" || a == "--help") throw Usage{0};
      else throw Usage{2};
    }
    if (out.empty()) throw Usage{2};
  } catch (const Usage& u) {
    std::fprintf(u.code ? stderr : stdout,
                 "usage: gen_db --out PATH [--size 100M|1G|4G|BYTES] [--seed N]\n");
    return u.code;
  } catch (const std::exception&) {
    std::fprintf(stderr, "usage: gen_db --out PATH [--size 100M|1G|4G|BYTES] [--seed N]\n");
    return 2;
  }
  struct stat st;
  if (stat(out.c_str(), &st) == 0) {
    std::fprintf(stderr, "gen_db: %s exists; refusing to overwrite\n", out.c_str());
    return 1;
  }
  auto t0 = std::chrono::steady_clock::now();
  // Rows are generated interleaved (a user, then that user's activity), which
  // scatters every table's pages; the finished file is written by VACUUM INTO
  // so each table and index is contiguous, as in a database that has been
  // vacuumed (and gzip's 32 KiB window sees similar pages together).
  const std::string scratch = out + ".gen-tmp";
  std::remove(scratch.c_str());
  if (sqlite3_open(scratch.c_str(), &g_db) != SQLITE_OK) {
    std::fprintf(stderr, "gen_db: cannot create %s\n", out.c_str());
    return 1;
  }
  // Bulk load: no journal, no fsync; switched to WAL at the end.
  Exec("PRAGMA page_size=4096; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
       "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;");
  Exec(R"SQL(
CREATE TABLE users(id INTEGER PRIMARY KEY, uuid TEXT NOT NULL, name TEXT NOT NULL,
  email TEXT NOT NULL, country TEXT, language TEXT, created_at TEXT NOT NULL,
  last_login TEXT, bio TEXT, settings TEXT);
CREATE TABLE products(id INTEGER PRIMARY KEY, sku TEXT NOT NULL, name TEXT NOT NULL,
  description TEXT, price_cents INTEGER, currency TEXT, stock INTEGER, tags TEXT);
CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, status TEXT NOT NULL,
  total_cents INTEGER NOT NULL, currency TEXT NOT NULL, created_at TEXT NOT NULL,
  shipping_address TEXT, notes TEXT);
CREATE TABLE order_items(id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL,
  product_id INTEGER NOT NULL, quantity INTEGER NOT NULL, unit_price_cents INTEGER NOT NULL);
CREATE TABLE events(id INTEGER PRIMARY KEY, user_id INTEGER, type TEXT NOT NULL,
  ts TEXT NOT NULL, session_id TEXT, payload TEXT);
CREATE TABLE audit_log(id INTEGER PRIMARY KEY, actor_id INTEGER, action TEXT NOT NULL,
  entity TEXT NOT NULL, entity_id INTEGER NOT NULL, ts TEXT NOT NULL, ip TEXT, details TEXT);
CREATE TABLE documents(id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL, title TEXT NOT NULL,
  body TEXT NOT NULL, tags TEXT, version INTEGER NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE sessions(id TEXT PRIMARY KEY, user_id INTEGER NOT NULL, ip TEXT,
  user_agent TEXT, created_at TEXT NOT NULL, expires_at TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE translations(id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL,
  lang TEXT NOT NULL, text TEXT NOT NULL, translator_id INTEGER, quality REAL);
CREATE INDEX users_email ON users(email);
CREATE INDEX orders_user ON orders(user_id, created_at);
CREATE INDEX orders_status ON orders(status);
CREATE INDEX order_items_order ON order_items(order_id);
CREATE INDEX events_user_ts ON events(user_id, ts);
CREATE INDEX events_type ON events(type);
CREATE INDEX audit_entity ON audit_log(entity, entity_id);
CREATE INDEX documents_owner ON documents(owner_id);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX translations_doc ON translations(document_id, lang);
)SQL");
  Rng r{seed};
  Text t(r);
  Stmt users("INSERT INTO users VALUES(?,?,?,?,?,?,?,?,?,?)");
  Stmt products("INSERT INTO products VALUES(?,?,?,?,?,?,?,?)");
  Stmt orders("INSERT INTO orders VALUES(?,?,?,?,?,?,?,?)");
  Stmt items("INSERT INTO order_items VALUES(?,?,?,?,?)");
  Stmt events("INSERT INTO events VALUES(?,?,?,?,?,?)");
  Stmt audit("INSERT INTO audit_log VALUES(?,?,?,?,?,?,?,?)");
  Stmt docs("INSERT INTO documents VALUES(?,?,?,?,?,?,?)");
  Stmt sessions("INSERT INTO sessions VALUES(?,?,?,?,?,?)");
  Stmt trans("INSERT INTO translations VALUES(?,?,?,?,?,?)");
  int64_t n_users = 0, n_products = 0, n_orders = 0, n_items = 0, n_events = 0, n_audit = 0,
          n_docs = 0, n_sessions = 0, n_trans = 0;
  Exec("BEGIN");
  for (int i = 0; i < 2000; i++) {  // a fixed catalogue
    ++n_products;
    products.Int(n_products)
        .Str("SKU-" + std::to_string(100000 + n_products))
        .Str(t.Sentence(2, 5))
        .Str(t.Paragraphs(3))
        .Int(static_cast<int64_t>(199 + r.Below(50000)))
        .Str(r.Below(4) ? "EUR" : "USD")
        .Int(static_cast<int64_t>(r.Below(1000)))
        .Str("[\"" + std::string(W(r, 400)) + "\",\"" + W(r, 400) + "\"]")
        .Run();
  }
  // One "tick" adds a user and that user's activity; the mix is fixed so the
  // proportions (and the compression ratio) do not depend on the size.
  int64_t tick = 0;
  int64_t last_report = 0;
  for (;;) {
    ++tick;
    int64_t clock = tick * 37;  // seconds since 2023-01-01
    ++n_users;
    std::string first = Pick(r, kFirst), last = Pick(r, kLast);
    std::string email = first + "." + last + std::to_string(r.Below(1000)) + "@" + Pick(r, kDomains);
    for (auto& c : email) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    users.Int(n_users)
        .Str(t.Uuid())
        .Str(first + " " + last)
        .Str(email)
        .Str(Pick(r, kCountries))
        .Str(Pick(r, kLangs))
        .Str(t.Time(clock))
        .Str(t.Time(clock + 86400 * static_cast<int64_t>(r.Below(300))))
        .Str(r.Below(2) ? t.Boiler() : t.Sentence(6, 30))
        .Str(std::string("{\"theme\":\"") + (r.Below(2) ? "dark" : "light") +
             "\",\"notifications\":" + (r.Below(2) ? "true" : "false") + ",\"timezone\":\"UTC" +
             (r.Below(2) ? "+" : "-") + std::to_string(r.Below(12)) + "\"}")
        .Run();
    int sessions_n = 1 + static_cast<int>(r.Below(2));
    for (int s = 0; s < sessions_n; s++) {
      ++n_sessions;
      sessions.Str(t.Hex(40))
          .Int(n_users)
          .Str(t.Ip())
          .Str(Pick(r, kAgents))
          .Str(t.Time(clock))
          .Str(t.Time(clock + 86400 * 30))
          .Run();
    }
    int orders_n = static_cast<int>(r.Below(4));
    for (int o = 0; o < orders_n; o++) {
      ++n_orders;
      int nitems = 1 + static_cast<int>(r.Below(4));
      int64_t total = 0;
      for (int k = 0; k < nitems; k++) {
        ++n_items;
        int64_t price = static_cast<int64_t>(199 + r.Below(20000));
        int64_t q = static_cast<int64_t>(1 + r.Below(3));
        total += price * q;
        items.Int(n_items).Int(n_orders).Int(static_cast<int64_t>(1 + r.Skewed(2000))).Int(q)
            .Int(price).Run();
      }
      orders.Int(n_orders)
          .Int(n_users)
          .Str(Pick(r, kStatuses))
          .Int(total)
          .Str(r.Below(4) ? "EUR" : "USD")
          .Str(t.Time(clock + static_cast<int64_t>(r.Below(86400))))
          .Str(std::to_string(1 + r.Below(9999)) + " " + W(r, 800) + " Street, " +
               Pick(r, kCountries))
          .Str(r.Below(3) ? "" : t.Sentence(4, 14))
          .Run();
    }
    int events_n = 4 + static_cast<int>(r.Below(8));
    std::string session = t.Hex(16);
    for (int e = 0; e < events_n; e++) {
      ++n_events;
      const char* type = Pick(r, kEventTypes);
      std::string payload = std::string("{\"path\":\"/") + W(r, 600) + "/" +
                            W(r, 600) + "\",\"ref\":\"" + W(r, 300) +
                            "\",\"ms\":" + std::to_string(r.Below(2000)) + ",\"q\":\"";
      t.Words(payload, 1 + static_cast<int>(r.Below(4)));
      payload += r.Below(4) ? std::string("\"}") : "\",\"trace\":\"" + t.Hex(16) + "\"}";
      events.Int(n_events)
          .Int(n_users)
          .Str(type)
          .Str(t.Time(clock + e * 5))
          .Str(session)
          .Str(payload)
          .Run();
    }
    int audit_n = 1 + static_cast<int>(r.Below(4));
    for (int a = 0; a < audit_n; a++) {
      ++n_audit;
      const char* entity = Pick(r, kEntities);
      std::string details = std::string("{\"field\":\"") + W(r, 500) +
                            "\",\"old\":\"" + W(r, 2000) + "\",\"new\":\"" +
                            W(r, 2000) + "\",\"request_id\":\"" + (r.Below(3) ? std::string("") : t.Uuid()) +
                            "\",\"comment\":\"" + t.Boiler() + "\"}";
      audit.Int(n_audit)
          .Int(static_cast<int64_t>(1 + r.Below(static_cast<uint64_t>(n_users))))
          .Str(Pick(r, kActions))
          .Str(entity)
          .Int(static_cast<int64_t>(1 + r.Below(100000)))
          .Str(t.Time(clock))
          .Str(t.Ip())
          .Str(details)
          .Run();
    }
    if (r.Below(3) < 2) {
      ++n_docs;
      std::string tags = "[";
      for (int k = 0, nt = 1 + static_cast<int>(r.Below(4)); k < nt; k++) {
        if (k) tags += ",";
        tags += std::string("\"") + W(r, 300) + "\"";
      }
      tags += "]";
      docs.Int(n_docs)
          .Int(n_users)
          .Str(t.Sentence(3, 9))
          .Str(t.Paragraphs(4 + static_cast<int>(r.Below(14))))
          .Str(tags)
          .Int(static_cast<int64_t>(1 + r.Below(12)))
          .Str(t.Time(clock))
          .Run();
      int tn = static_cast<int>(r.Below(3));
      for (int k = 0; k < tn; k++) {
        ++n_trans;
        trans.Int(n_trans)
            .Int(n_docs)
            .Str(Pick(r, kLangs))
            .Str(t.Paragraphs(2 + static_cast<int>(r.Below(6))))
            .Int(static_cast<int64_t>(1 + r.Below(static_cast<uint64_t>(n_users))))
            .Real(static_cast<double>(r.Below(1000)) / 1000.0)
            .Run();
      }
    }
    if (tick % 2000 == 0) {
      int64_t bytes = PageBytes();
      if (bytes >= static_cast<int64_t>(target)) break;
      if (bytes - last_report >= (256ll << 20)) {
        last_report = bytes;
        std::fprintf(stderr, "gen_db: %lld MiB\n", static_cast<long long>(bytes >> 20));
      }
      if (tick % 20000 == 0) {  // keep transactions (and the page cache) bounded
        Exec("COMMIT");
        Exec("BEGIN");
      }
    }
  }
  Exec("COMMIT");
  Exec("ANALYZE");
  {
    sqlite3_stmt* s;
    Check(sqlite3_prepare_v2(g_db, "VACUUM INTO ?", -1, &s, nullptr), "vacuum");
    sqlite3_bind_text(s, 1, out.c_str(), -1, SQLITE_TRANSIENT);
    Check(sqlite3_step(s), "VACUUM INTO");
    sqlite3_finalize(s);
  }
  sqlite3_close(g_db);
  std::remove(scratch.c_str());
  if (sqlite3_open(out.c_str(), &g_db) != SQLITE_OK) {
    std::fprintf(stderr, "gen_db: cannot open %s\n", out.c_str());
    return 1;
  }
  Exec("PRAGMA journal_mode=WAL");
  Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  int64_t bytes = PageBytes();
  sqlite3_close(g_db);
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int64_t total = n_users + n_products + n_orders + n_items + n_events + n_audit + n_docs +
                  n_sessions + n_trans;
  std::printf(
      "{\"path\":\"%s\",\"bytes\":%lld,\"seed\":%llu,\"tables\":9,\"indexes\":10,"
      "\"rows\":%lld,\"rows_per_table\":{\"users\":%lld,\"products\":%lld,\"orders\":%lld,"
      "\"order_items\":%lld,\"events\":%lld,\"audit_log\":%lld,\"documents\":%lld,"
      "\"sessions\":%lld,\"translations\":%lld},\"journal_mode\":\"wal\",\"seconds\":%.2f}\n",
      out.c_str(), static_cast<long long>(bytes), static_cast<unsigned long long>(seed),
      static_cast<long long>(total), static_cast<long long>(n_users),
      static_cast<long long>(n_products), static_cast<long long>(n_orders),
      static_cast<long long>(n_items), static_cast<long long>(n_events),
      static_cast<long long>(n_audit), static_cast<long long>(n_docs),
      static_cast<long long>(n_sessions), static_cast<long long>(n_trans), secs);
  return 0;
}
