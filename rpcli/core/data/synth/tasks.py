"""Task archetypes (routing tasks are the first n_tasks of this list), leaderboard tasks and domains."""

from __future__ import annotations

from rpcli.core.data.synth.queries.code import gen_code_complete, gen_py_func, gen_sql
from rpcli.core.data.synth.queries.knowledge import (
    gen_academic_mc, gen_commonsense_mc, gen_factoid, gen_open_qa, gen_science_mc)
from rpcli.core.data.synth.queries.language import gen_analogy, gen_concept_gen, gen_logic_grid, gen_reading_qa
from rpcli.core.data.synth.queries.maths import gen_contest_math, gen_word_math

SYS_MC = ("Answer the following multiple-choice question by selecting the correct option (A, B, C, or D). "
          "You MUST put your final answer letter in a parenthesis.\n")
SYS_MATH = "Answer the following math question step by step.\n"
SYS_PY = ("You are an expert Python programmer. Implement the function with no irrelevant words or comments. "
          "Put your code in this format: [BEGIN] <Your Code> [Done]\n")
SYS_PY_BODY = ("You are an expert Python programmer. Implement the function body only. Do not repeat the function "
               "signature or docstring. Put the code in this format: [BEGIN] <Your Code - function body only> [Done]\n")
SYS_SQL = ("You are an expert SQL developer. Write a single query with no explanation. "
           "Put your query in this format: [BEGIN] <Your Query> [Done]\n")
SYS_READ = "Answer the question using only information from the passage. Reply with a short phrase.\n"

DOMAIN_POOL = ["knowledge", "reasoning", "math", "coding", "qa", "alignment"]
DOMAIN_DESC = {
    "knowledge": "Tasks that test stored factual and academic knowledge across history, science, law and culture.",
    "reasoning": "Tasks that require commonsense inference, deduction over constraints and multi-step logical "
                 "thinking.",
    "math": "Tasks that require arithmetic, algebraic manipulation and multi-step quantitative problem solving.",
    "coding": "Tasks that require writing correct programs or queries that pass executable checks.",
    "qa": "Tasks centred on answering questions from memory or from a given passage with a short, faithful answer.",
    "alignment": "Tasks that evaluate instruction following, controllable generation and well-formed helpful output.",
}


def _arch(name, gen, metric, domains, two, cat, acc, tok, system, desc, phrase, tid=None):
    return dict(name=name, gen=gen, metric=metric, domains=domains, two=two, cat=cat, acc=acc, tok=tok,
                system=system, desc=desc, phrase=phrase, tid=tid)


ARCHETYPES = [
    _arch("factoid_qa", gen_factoid, "f1_score", ["knowledge", "qa", "reasoning"], True, "knowledge", 0.35,
          (8, 40), None,
          "FactoidQA is a synthetic trivia benchmark of single-answer factual questions about history, science, "
          "geography and the arts. Answers are short names, places or years and are scored by token overlap with "
          "the reference answer.", "factual trivia recall"),
    _arch("academic_mc", gen_academic_mc, "em_mc", ["knowledge", "reasoning", "qa"], False, "knowledge", 0.62,
          (2, 3), SYS_MC,
          "AcademicMC is a synthetic multiple-choice exam covering physics, economics, biology and law at "
          "undergraduate level. Each question has four options and only the chosen letter is scored.",
          "academic multiple-choice exams"),
    _arch("word_math", gen_word_math, "gsm8k", ["math", "reasoning"], False, "math", 0.7, (90, 220), SYS_MATH,
          "WordMath is a synthetic set of grade-school arithmetic word problems about shopping, travel, baking and "
          "saving money. Each problem needs two to four elementary steps and the final number is checked against "
          "the reference.", "arithmetic word problems"),
    _arch("py_func", gen_py_func, "code_eval", ["coding", "reasoning"], False, "coding", 0.45, (25, 90), SYS_PY,
          "PyFunc is a synthetic benchmark of short Python programming problems on lists, strings, integers and "
          "dictionaries. A solution passes only if it satisfies all three hidden assert statements.",
          "short Python function synthesis"),
    _arch("science_mc", gen_science_mc, "em_mc", ["reasoning", "knowledge", "qa"], True, "reasoning", 0.72,
          (2, 3), SYS_MC,
          "ScienceMC is a synthetic grade-school science exam with four-option questions about earth science, life "
          "science, heat transfer and space. It rewards applying simple scientific reasoning to a described "
          "observation.", "grade-school science reasoning"),
    _arch("concept_gen", gen_concept_gen, "commongen_coverage", ["qa", "alignment", "reasoning", "knowledge"], True,
          "language", 0.7, (20, 60), None,
          "ConceptGen is a synthetic constrained generation task: given a list of everyday concepts, the model must "
          "write a coherent sentence that uses all of them. It is scored by the fraction of the concepts the "
          "sentence covers.", "constrained sentence generation"),
    _arch("contest_math", gen_contest_math, "math", ["math", "reasoning"], False, "math", 0.45, (120, 320), None,
          "ContestMath is a synthetic collection of short competition-style problems in number theory, "
          "combinatorics, algebra and geometry. The final answer must be given in a box and is compared exactly with "
          "the reference value.", "competition mathematics"),
    _arch("code_complete", gen_code_complete, "code_eval", ["coding", "reasoning"], False, "coding", 0.4, (30, 110),
          SYS_PY_BODY,
          "CodeComplete is a synthetic function-completion benchmark: each prompt is a typed Python signature with a "
          "docstring and examples, and the model must write the body. The completion is executed against a hidden "
          "check function.", "docstring-to-code completion", tid="SynthEval/{i}"),
    _arch("logic_grid", gen_logic_grid, "em_mc", ["reasoning", "math"], False, "reasoning", 0.4, (1, 4), None,
          "LogicGrid is a synthetic set of zebra-style logic puzzles in which people living in a row of houses have "
          "different attributes. Clues constrain the arrangement and the model must name the house of one person.",
          "logic grid puzzles"),
    _arch("open_qa", gen_open_qa, "f1_score", ["qa", "knowledge", "reasoning"], True, "qa", 0.38, (10, 60), None,
          "OpenQA is a synthetic open-domain question set written like search-engine queries, in lower case and "
          "without punctuation, about entertainment, sports, politics and music. Short answers are scored by token "
          "overlap.", "search-style open questions"),
    _arch("commonsense_mc", gen_commonsense_mc, "em_mc", ["reasoning", "knowledge"], False, "reasoning", 0.75,
          (2, 3), SYS_MC,
          "CommonsenseMC is a synthetic five-option benchmark of everyday situations: what people do first to reach "
          "a goal, where objects are kept and how people feel. It tests practical commonsense rather than "
          "specialist knowledge.", "everyday commonsense"),
    _arch("reading_qa", gen_reading_qa, "f1_score", ["qa", "reasoning", "knowledge"], True, "qa", 0.65, (6, 25),
          SYS_READ,
          "ReadingQA is a synthetic reading-comprehension task: a short passage (a biography, a business report, a "
          "science note or a match report) is followed by one question whose answer is a span of the passage.",
          "short-passage reading comprehension"),
    _arch("sql_gen", gen_sql, "code_eval", ["coding", "knowledge"], False, "coding", 0.5, (25, 60), SYS_SQL,
          "SQLGen is a synthetic text-to-SQL benchmark over four small relational tables. Each request asks for a "
          "filtered, grouped aggregate and the generated query is executed and compared with the reference result.",
          "text-to-SQL"),
    _arch("analogy_mc", gen_analogy, "em_mc", ["reasoning", "knowledge"], False, "reasoning", 0.6, (2, 3), SYS_MC,
          "AnalogyMC is a synthetic four-option analogy test mixing word relations (animals and their young, workers "
          "and tools, antonyms, animal homes) with numeric relations such as squaring or doubling.",
          "verbal and numeric analogies"),
]
ARCHETYPE_NAMES = [a["name"] for a in ARCHETYPES]
MAX_TASKS = len(ARCHETYPES)
NO_FORMATTER = {"concept_gen", "contest_math", "logic_grid"}
KEPT_TASK_PREF = "academic_mc"  # the held-out model keeps this routing-task score in newllm (like mmlu)

# Non-routing "leaderboard" tasks: scores only in detailed_scores (like ifeval/bbh/...). grad_science also has
# queries in the default_query jsonl files (like the real gpqa/math).
LEADERBOARD = [
    dict(name="instruct_eval", domains=["alignment", "reasoning"], two=False, cat="language", base=0.65,
         desc="InstructEval is a synthetic instruction-following benchmark whose prompts carry automatically "
              "verifiable constraints such as word limits, required keywords or output formats. It measures how "
              "reliably a model obeys explicit formatting instructions.", phrase="instruction following"),
    dict(name="hard_reasoning", domains=["reasoning", "math"], two=False, cat="reasoning", base=0.45,
         desc="HardReasoning is a synthetic suite of difficult multi-step reasoning problems, including symbolic "
              "manipulation, date arithmetic and tracking shuffled objects. It is designed so that shallow pattern "
              "matching rarely succeeds.", phrase="hard multi-step reasoning"),
    dict(name="grad_science", domains=["knowledge", "reasoning"], two=True, cat="knowledge", base=0.3,
         desc="GradScience is a synthetic graduate-level multiple-choice exam in physical chemistry and physics. "
              "Questions need quantitative reasoning with physical constants and are hard to answer by retrieval "
              "alone.", phrase="graduate-level science questions"),
    dict(name="multistep_reasoning", domains=["reasoning", "qa"], two=False, cat="reasoning", base=0.4,
         desc="MultistepReasoning is a synthetic benchmark of long narrative puzzles, such as murder mysteries and "
              "object placement stories, in which the answer follows from several soft inferences across the text.",
         phrase="long narrative reasoning"),
]
EXTRA_JSONL_TASK = "grad_science"
ALL_NULL_TASK = dict(name="tool_calling", domains=["coding", "alignment"],
                      desc="ToolCalling is a synthetic function-calling benchmark in which the model must choose an "
                           "API from a list and fill in its arguments as JSON. No model in this dataset has a score "
                           "on it.")
UNUSED_TASKS = {
    "dialogue_arena": "DialogueArena is a synthetic pairwise preference benchmark of open-ended multi-turn chats "
                      "judged by a strong reference model. It is described here for completeness but no model has "
                      "a score on it.",
    "long_context_qa": "LongContextQA is a synthetic question-answering task over documents of tens of thousands "
                       "of tokens that tests retrieval of facts buried deep in the context. It is not used by any "
                       "model in this dataset.",
}
