// The two reference engines the search benchmarks compare paperboy with, set up the way
// their documentation recommends for English BM25 ranking:
// - SQLite FTS5 with the porter tokenizer, ranked by bm25();
// - Xapian with the English stemmer (STEM_SOME) and BM25Weight.
#pragma once

#include <sqlite3.h>
#include <xapian.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace paperboy::bench {

struct BenchDocument {
  std::string id;
  std::string title;
  std::string abstract;
  std::string authors;  // names joined by ", "
};

enum class Match { kAll, kAny };

class Fts5Engine {
 public:
  explicit Fts5Engine(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK)
      throw std::runtime_error(path + ": cannot open");
    exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;");
    exec(
        "CREATE VIRTUAL TABLE IF NOT EXISTS docs USING fts5(id UNINDEXED, title, abstract, "
        "authors, "
        "tokenize='porter unicode61 remove_diacritics 2')");
  }
  ~Fts5Engine() { sqlite3_close(db_); }

  void add_all(const std::vector<BenchDocument>& documents) {
    exec("BEGIN");
    sqlite3_stmt* insert =
        prepare("INSERT INTO docs(id, title, abstract, authors) VALUES (?,?,?,?)");
    for (const BenchDocument& document : documents) {
      sqlite3_bind_text(insert, 1, document.id.data(), static_cast<int>(document.id.size()),
                        SQLITE_STATIC);
      sqlite3_bind_text(insert, 2, document.title.data(), static_cast<int>(document.title.size()),
                        SQLITE_STATIC);
      sqlite3_bind_text(insert, 3, document.abstract.data(),
                        static_cast<int>(document.abstract.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert, 4, document.authors.data(),
                        static_cast<int>(document.authors.size()), SQLITE_STATIC);
      if (sqlite3_step(insert) != SQLITE_DONE) throw std::runtime_error(sqlite3_errmsg(db_));
      sqlite3_reset(insert);
    }
    sqlite3_finalize(insert);
    exec("COMMIT");
    exec("INSERT INTO docs(docs) VALUES('optimize')");
  }

  // Ranked ids for the words of `text` (each word quoted, so no FTS5 syntax leaks in).
  std::vector<std::string> search(std::string_view text, size_t limit, Match match,
                                  bool phrase = false) {
    std::vector<std::string> words = split_words(text);
    std::string expression;
    if (phrase) {
      expression = "\"";
      for (const std::string& word : words) expression += word + " ";
      expression += "\"";
    } else {
      for (const std::string& word : words) {
        if (!expression.empty()) expression += match == Match::kAll ? " AND " : " OR ";
        expression += "\"" + word + "\"";
      }
    }
    std::vector<std::string> ids;
    if (words.empty()) return ids;
    if (query_ == nullptr)
      query_ = prepare(
          "SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, 2.0, 1.0, 1.0) LIMIT ?");
    sqlite3_bind_text(query_, 1, expression.data(), static_cast<int>(expression.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_int64(query_, 2, static_cast<sqlite3_int64>(limit));
    while (sqlite3_step(query_) == SQLITE_ROW)
      ids.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(query_, 0)));
    sqlite3_reset(query_);
    return ids;
  }

  static std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> words;
    std::string word;
    for (char c : text) {
      if (std::isalnum(static_cast<unsigned char>(c)) || (static_cast<unsigned char>(c) >= 0x80)) {
        word.push_back(c);
      } else if (!word.empty()) {
        words.push_back(std::move(word));
        word.clear();
      }
    }
    if (!word.empty()) words.push_back(std::move(word));
    return words;
  }

 private:
  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error ? error : "sqlite error";
      sqlite3_free(error);
      throw std::runtime_error(message);
    }
  }
  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &statement, nullptr) != SQLITE_OK)
      throw std::runtime_error(sqlite3_errmsg(db_));
    return statement;
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* query_ = nullptr;
};

class XapianEngine {
 public:
  explicit XapianEngine(const std::string& path) : path_(path), stemmer_("english") {}

  void add_all(const std::vector<BenchDocument>& documents) {
    // No fsync per flush: on the shared disk syncing made the 100k build take 27 minutes, and
    // the query figures, not Xapian's durability, are what is compared.
    Xapian::WritableDatabase database(path_, Xapian::DB_CREATE_OR_OVERWRITE | Xapian::DB_NO_SYNC);
    Xapian::TermGenerator generator;
    generator.set_stemmer(stemmer_);
    generator.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
    for (const BenchDocument& document : documents) {
      Xapian::Document xapian_document;
      generator.set_document(xapian_document);
      // Title words twice, as paperboy and FTS5 weigh the title twice.
      generator.index_text(document.title, 2);
      generator.increase_termpos();
      generator.index_text(document.abstract);
      generator.increase_termpos();
      generator.index_text(document.authors);
      xapian_document.set_data(document.id);
      database.add_document(xapian_document);
    }
    database.commit();
    database.close();
    reader_ = std::make_unique<Xapian::Database>(path_);
    parser_.set_stemmer(stemmer_);
    parser_.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    parser_.set_database(*reader_);
  }

  void open_existing() {
    reader_ = std::make_unique<Xapian::Database>(path_);
    parser_.set_stemmer(stemmer_);
    parser_.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
    parser_.set_database(*reader_);
  }

  std::vector<std::string> search(std::string_view text, size_t limit, Match match,
                                  bool phrase = false) {
    parser_.set_default_op(match == Match::kAll ? Xapian::Query::OP_AND : Xapian::Query::OP_OR);
    std::string query_text(text);
    if (phrase) query_text = "\"" + query_text + "\"";
    Xapian::Query query;
    try {
      query = parser_.parse_query(query_text, Xapian::QueryParser::FLAG_PHRASE);
    } catch (const Xapian::QueryParserError&) {
      query = parser_.parse_query(query_text, 0);
    }
    Xapian::Enquire enquire(*reader_);
    enquire.set_weighting_scheme(Xapian::BM25Weight());
    enquire.set_query(query);
    Xapian::MSet matches = enquire.get_mset(0, static_cast<Xapian::doccount>(limit));
    std::vector<std::string> ids;
    for (auto it = matches.begin(); it != matches.end(); ++it)
      ids.push_back(it.get_document().get_data());
    return ids;
  }

 private:
  std::string path_;
  Xapian::Stem stemmer_;
  Xapian::QueryParser parser_;
  std::unique_ptr<Xapian::Database> reader_;
};

}  // namespace paperboy::bench
