"""Citizens' how-to Q&A: the knowledge base (entries), the text pipeline (text, vocabulary),
the matcher (index) and what citizens' votes and unanswered questions say (feedback).

Import the submodule that owns a name: `from services.faq.index import FaqIndex`."""
