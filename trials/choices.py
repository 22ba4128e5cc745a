"""Enumerations shared by every registry; the registry's own wording is stored beside them."""

from django.db.models import TextChoices


class Registry(TextChoices):
    CTGOV = "ctgov", "ClinicalTrials.gov"
    CHICTR = "chictr", "ChiCTR"
    ITMCTR = "itmctr", "ITMCTR"
    ISRCTN = "isrctn", "ISRCTN"
    EUCTR = "euctr", "EU Clinical Trials Register"
    CTIS = "ctis", "EU CTIS"
    CTRI = "ctri", "CTRI (India)"
    JPRN = "jprn", "JPRN (Japan)"
    DRKS = "drks", "DRKS (Germany)"
    IRCT = "irct", "IRCT (Iran)"
    ANZCTR = "anzctr", "ANZCTR"
    NTR = "ntr", "Netherlands Trial Register"
    TCTR = "tctr", "Thai Clinical Trials Registry"
    KCT = "kct", "CRiS (Korea)"
    PACTR = "pactr", "PACTR"
    REBEC = "rebec", "ReBEC (Brazil)"
    RPCEC = "rpcec", "RPCEC (Cuba)"
    SLCTR = "slctr", "SLCTR (Sri Lanka)"
    LBCTR = "lbctr", "LBCTR (Lebanon)"
    OTHER = "other", "Other"


class Status(TextChoices):
    NOT_YET_RECRUITING = "NOT_YET_RECRUITING", "Not yet recruiting"
    RECRUITING = "RECRUITING", "Recruiting"
    ENROLLING_BY_INVITATION = "ENROLLING_BY_INVITATION", "Enrolling by invitation"
    ACTIVE_NOT_RECRUITING = "ACTIVE_NOT_RECRUITING", "Active, not recruiting"
    SUSPENDED = "SUSPENDED", "Suspended"
    TERMINATED = "TERMINATED", "Terminated"
    COMPLETED = "COMPLETED", "Completed"
    WITHDRAWN = "WITHDRAWN", "Withdrawn"
    AVAILABLE = "AVAILABLE", "Available"
    NO_LONGER_AVAILABLE = "NO_LONGER_AVAILABLE", "No longer available"
    TEMPORARILY_NOT_AVAILABLE = "TEMPORARILY_NOT_AVAILABLE", "Temporarily not available"
    APPROVED_FOR_MARKETING = "APPROVED_FOR_MARKETING", "Approved for marketing"
    WITHHELD = "WITHHELD", "Withheld"
    UNKNOWN = "UNKNOWN", "Unknown"


class StudyType(TextChoices):
    INTERVENTIONAL = "INTERVENTIONAL", "Interventional"
    OBSERVATIONAL = "OBSERVATIONAL", "Observational"
    EXPANDED_ACCESS = "EXPANDED_ACCESS", "Expanded access"
    OTHER = "OTHER", "Other"


class Phase(TextChoices):
    EARLY_PHASE1 = "EARLY_PHASE1", "Early phase 1"
    PHASE1 = "PHASE1", "Phase 1"
    PHASE2 = "PHASE2", "Phase 2"
    PHASE3 = "PHASE3", "Phase 3"
    PHASE4 = "PHASE4", "Phase 4"
    NA = "NA", "Not applicable"


class Allocation(TextChoices):
    RANDOMIZED = "RANDOMIZED", "Randomized"
    NON_RANDOMIZED = "NON_RANDOMIZED", "Non-randomized"
    NA = "NA", "Not applicable"


class InterventionModel(TextChoices):
    SINGLE_GROUP = "SINGLE_GROUP", "Single group"
    PARALLEL = "PARALLEL", "Parallel"
    CROSSOVER = "CROSSOVER", "Crossover"
    FACTORIAL = "FACTORIAL", "Factorial"
    SEQUENTIAL = "SEQUENTIAL", "Sequential"


class Masking(TextChoices):
    NONE = "NONE", "None (open label)"
    SINGLE = "SINGLE", "Single"
    DOUBLE = "DOUBLE", "Double"
    TRIPLE = "TRIPLE", "Triple"
    QUADRUPLE = "QUADRUPLE", "Quadruple"


class PrimaryPurpose(TextChoices):
    TREATMENT = "TREATMENT", "Treatment"
    PREVENTION = "PREVENTION", "Prevention"
    DIAGNOSTIC = "DIAGNOSTIC", "Diagnostic"
    ECT = "ECT", "Educational/counseling/training"
    SUPPORTIVE_CARE = "SUPPORTIVE_CARE", "Supportive care"
    SCREENING = "SCREENING", "Screening"
    HEALTH_SERVICES_RESEARCH = "HEALTH_SERVICES_RESEARCH", "Health services research"
    BASIC_SCIENCE = "BASIC_SCIENCE", "Basic science"
    DEVICE_FEASIBILITY = "DEVICE_FEASIBILITY", "Device feasibility"
    OTHER = "OTHER", "Other"


class Sex(TextChoices):
    ALL = "ALL", "All"
    FEMALE = "FEMALE", "Female"
    MALE = "MALE", "Male"


class RegistrationTiming(TextChoices):
    PROSPECTIVE = "prospective", "Prospective"
    RETROSPECTIVE = "retrospective", "Retrospective"


class IpdSharing(TextChoices):
    YES = "YES", "Yes"
    NO = "NO", "No"
    UNDECIDED = "UNDECIDED", "Undecided"


class ArmType(TextChoices):
    EXPERIMENTAL = "EXPERIMENTAL", "Experimental"
    ACTIVE_COMPARATOR = "ACTIVE_COMPARATOR", "Active comparator"
    PLACEBO_COMPARATOR = "PLACEBO_COMPARATOR", "Placebo comparator"
    SHAM_COMPARATOR = "SHAM_COMPARATOR", "Sham comparator"
    NO_INTERVENTION = "NO_INTERVENTION", "No intervention"
    OTHER = "OTHER", "Other"


class InterventionType(TextChoices):
    DRUG = "DRUG", "Drug"
    DEVICE = "DEVICE", "Device"
    BIOLOGICAL = "BIOLOGICAL", "Biological"
    PROCEDURE = "PROCEDURE", "Procedure"
    RADIATION = "RADIATION", "Radiation"
    BEHAVIORAL = "BEHAVIORAL", "Behavioral"
    GENETIC = "GENETIC", "Genetic"
    DIETARY_SUPPLEMENT = "DIETARY_SUPPLEMENT", "Dietary supplement"
    COMBINATION_PRODUCT = "COMBINATION_PRODUCT", "Combination product"
    DIAGNOSTIC_TEST = "DIAGNOSTIC_TEST", "Diagnostic test"
    OTHER = "OTHER", "Other"


class OutcomeKind(TextChoices):
    PRIMARY = "primary", "Primary"
    SECONDARY = "secondary", "Secondary"
    OTHER = "other", "Other"


class CriterionKind(TextChoices):
    INCLUSION = "inclusion", "Inclusion"
    EXCLUSION = "exclusion", "Exclusion"


class SponsorRole(TextChoices):
    LEAD = "lead", "Lead sponsor"
    COLLABORATOR = "collaborator", "Collaborator"
    FUNDER = "funder", "Funder"


class DatePrecision(TextChoices):
    DAY = "day", "Day"
    MONTH = "month", "Month"
    YEAR = "year", "Year"
