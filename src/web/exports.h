// Citations of papers for reference managers: BibTeX (@misc entries in the form arXiv gives)
// and RIS. Both take stored text as it is: LaTeX specials are escaped for BibTeX, while math
// between $...$ is kept, since BibTeX is read by LaTeX anyway.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/paper.h"

namespace paperboy::web {

// Text for a BibTeX field value in braces: # $ % & _ { } ~ ^ \ are escaped outside math
// ($...$), and unbalanced braces inside math are escaped too, so the entry always parses.
std::string bibtex_escaped(std::string_view text);

// The citation key: the first author's family name, the year and the first title word
// ("gu2023mamba"), ASCII letters and digits only; the paper id when nothing else is known.
std::string bibtex_key(const Paper& paper);

// One @misc entry (or @article with a journal reference), ending with a blank line.
std::string bibtex_entry(const Paper& paper);
std::string bibtex(const std::vector<Paper>& papers);

// One RIS record (TY ... ER); line breaks in values become spaces, as RIS tags are one line.
std::string ris_record(const Paper& paper);
std::string ris(const std::vector<Paper>& papers);

}  // namespace paperboy::web
