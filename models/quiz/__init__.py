"""The trainee quiz: questions with distractors chosen by phenotypic similarity, answers, results.

* `similarity`: how alike two syndromes look (shared facial HPO features, frequency-weighted), and
  which features tell two syndromes apart;
* `questions`: quiz settings, deterministic questions from a seed, answer checking;
* `results`: answer records, score, accuracy per syndrome, confidence calibration, CSV export;
* `store`: the SQLite database of learners, quizzes and answers.

Nothing here draws or shows a face (the app does, with `models.phenotype` or `models.generator`),
and nothing imports gradio. Education and research only; not for diagnosis.
"""

from models.quiz.questions import (
    DIFFICULTIES,
    GENERATORS,
    INTENSITIES,
    MAX_CHOICES,
    MAX_QUESTIONS,
    MIN_CHOICES,
    MIN_QUESTIONS,
    MODES,
    Question,
    QuizSettings,
    check_answer,
    default_syndromes,
    make_quiz,
    pick_distractors,
    validate_settings,
)
from models.quiz.results import (
    CONFIDENCE_LEVELS,
    Accuracy,
    AnswerRecord,
    answer_credit,
    calibration,
    export_csv,
    make_record,
    per_syndrome,
    score,
)
from models.quiz.similarity import FeatureContrast, SimilarityMatrix, contrast, feature_profile, similarity_matrix
from models.quiz.store import LearnerSummary, QuizStore, QuizStoreError, clean_name

__all__ = [
    "CONFIDENCE_LEVELS",
    "DIFFICULTIES",
    "GENERATORS",
    "INTENSITIES",
    "MAX_CHOICES",
    "MAX_QUESTIONS",
    "MIN_CHOICES",
    "MIN_QUESTIONS",
    "MODES",
    "Accuracy",
    "AnswerRecord",
    "answer_credit",
    "FeatureContrast",
    "LearnerSummary",
    "Question",
    "QuizSettings",
    "QuizStore",
    "QuizStoreError",
    "SimilarityMatrix",
    "calibration",
    "check_answer",
    "clean_name",
    "contrast",
    "default_syndromes",
    "export_csv",
    "feature_profile",
    "make_quiz",
    "make_record",
    "per_syndrome",
    "pick_distractors",
    "score",
    "similarity_matrix",
    "validate_settings",
]
