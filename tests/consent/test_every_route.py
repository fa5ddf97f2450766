"""No second path to the data: every API route is either one that returns enterprise data
and goes through the access decision, or is listed here with why it returns none.

A route added later without being listed fails the first test; the second calls every data
route and checks that it logged a decision, and that it shows nothing when the decision says
no (the decision is replaced by one that always refuses).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import LEGAL_REPRESENTATIVE, TAX_PAID, Auth, World, events, grant
from xinyidai.consent import service as consent_service
from xinyidai.consent.schemas import Decision
from xinyidai.scoring import features

CODE = ENTERPRISE_CODE

# Routes that return an enterprise's records (or an answer about them), and how to call them.
DATA_ROUTES: dict[tuple[str, str], Callable[[TestClient, dict[str, str]], Any]] = {
    ("GET", "/api/v1/enterprises/{code}/records"): lambda c, h: c.get(
        f"/api/v1/enterprises/{CODE}/records", headers=h
    ),
    ("GET", "/api/v1/enterprises/{code}/report"): lambda c, h: c.get(
        f"/api/v1/enterprises/{CODE}/report", headers=h
    ),
    ("GET", "/api/v1/enterprises/{code}/associations"): lambda c, h: c.get(
        f"/api/v1/enterprises/{CODE}/associations", headers=h
    ),
    ("GET", "/api/v1/enterprises/{code}/rating"): lambda c, h: c.get(
        f"/api/v1/enterprises/{CODE}/rating", headers=h
    ),
    ("GET", "/api/v1/enterprises/{code}/rating/history"): lambda c, h: c.get(
        f"/api/v1/enterprises/{CODE}/rating/history", headers=h
    ),
    ("GET", "/api/v1/enterprises/{code}/profile"): lambda c, h: c.get(
        f"/api/v1/enterprises/{CODE}/profile", headers=h
    ),
    ("POST", "/api/v1/verify"): lambda c, h: c.post(
        "/api/v1/verify",
        json={"credit_code": CODE, "category": "tax_payment", "op": "exists"},
        headers=h,
    ),
    ("POST", "/api/v1/joint/thresholds"): lambda c, h: c.post(
        "/api/v1/joint/thresholds",
        json={"credit_code": CODE, "question": "tax_paid_last_year", "threshold": "1000"},
        headers=h,
    ),
}
EXPORTS: dict[str, Callable[[TestClient, dict[str, str]], Any]] = {
    "records as CSV": lambda c, h: c.get(
        f"/api/v1/enterprises/{CODE}/records", params={"format": "csv"}, headers=h
    ),
    "profile as PDF": lambda c, h: c.get(
        f"/api/v1/enterprises/{CODE}/profile", params={"format": "pdf"}, headers=h
    ),
}

# Routes that return no enterprise records, and why.
NO_RECORDS = {
    ("GET", "/api/v1/credit-codes/{code}"): "checks a code's check character; no data",
    ("GET", "/api/v1/regions"): "reference codes",
    ("GET", "/api/v1/industries"): "reference codes",
    ("GET", "/api/v1/registry/enterprises"): "the public registry directory (公示 facts)",
    ("GET", "/api/v1/registry/enterprises/{code}"): "the public registry directory (公示 facts)",
    ("GET", "/api/v1/enterprises"): "the operator's search of the registry directory",
    ("GET", "/api/v1/catalog/categories"): "the catalogue",
    ("POST", "/api/v1/catalog/categories"): "the catalogue",
    ("GET", "/api/v1/catalog/categories/{code}"): "the catalogue",
    ("PUT", "/api/v1/catalog/categories/{code}"): "the catalogue",
    ("GET", "/api/v1/catalog/categories/{code}/versions"): "the catalogue",
    ("POST", "/api/v1/catalog/categories/{code}/assign"): "the catalogue",
    ("POST", "/api/v1/catalog/categories/{code}/retire"): "the catalogue",
    ("POST", "/api/v1/catalog/categories/{code}/restore"): "the catalogue",
    ("GET", "/api/v1/ledger/checkpoint"): "digests only",
    ("GET", "/api/v1/ledger/key"): "the log's key",
    ("GET", "/api/v1/ledger/entries"): "salted commitments and keyed tags (leaf format 2)",
    ("GET", "/api/v1/ledger/proof/inclusion"): "hashes",
    ("GET", "/api/v1/ledger/proof/consistency"): "hashes",
    ("GET", "/api/v1/ledger/lookup"): "indexes",
    ("POST", "/api/v1/ledger/cosignatures"): "witnesses",
    ("POST", "/api/v1/auth/token"): "sign-in",
    ("POST", "/api/v1/auth/revoke"): "sign-out",
    ("GET", "/api/v1/me"): "one's own account",
    ("POST", "/api/v1/me/password"): "one's own account",
    ("GET", "/api/v1/api-keys"): "keys",
    ("POST", "/api/v1/api-keys"): "keys",
    ("DELETE", "/api/v1/api-keys/{key_id}"): "keys",
    ("POST", "/api/v1/registrations/enterprise"): "onboarding",
    ("POST", "/api/v1/registrations/institution"): "onboarding",
    ("GET", "/api/v1/organizations"): "members of the platform",
    ("POST", "/api/v1/organizations"): "members of the platform",
    ("GET", "/api/v1/organization-counts"): "members of the platform",
    ("GET", "/api/v1/organizations/{org_id}"): "members of the platform",
    ("POST", "/api/v1/organizations/{org_id}/approve"): "members of the platform",
    ("POST", "/api/v1/organizations/{org_id}/reject"): "members of the platform",
    ("POST", "/api/v1/organizations/{org_id}/suspend"): "members of the platform",
    ("POST", "/api/v1/organizations/{org_id}/reactivate"): "members of the platform",
    ("GET", "/api/v1/organizations/{org_id}/users"): "members of the platform",
    ("POST", "/api/v1/organizations/{org_id}/users"): "members of the platform",
    ("POST", "/api/v1/users/{user_id}/{transition}"): "members of the platform",
    ("GET", "/api/v1/my-organization/users"): "members of the platform",
    ("POST", "/api/v1/my-organization/users"): "members of the platform",
    ("POST", "/api/v1/my-organization/users/{user_id}/{transition}"): "members",
    ("POST", "/api/v1/ingest/batches"): "data in, not out",
    ("GET", "/api/v1/ingest/batches"): "batch counts",
    ("GET", "/api/v1/ingest/batches/{batch_id}"): "batch counts",
    ("GET", "/api/v1/ingest/batches/{batch_id}/rejections"): (
        "the rows a department sent and had refused, back to that department (or the "
        "operator): its own submission, never stored as records"
    ),
    ("POST", "/api/v1/ingest/batches/{batch_id}/resubmit"): "data in, not out",
    ("POST", "/api/v1/ingest/records"): "data in, not out",
    ("GET", "/api/v1/ingest/quality"): "figures per department and category",
    ("GET", "/api/v1/jobs/{job_id}"): "job progress",
    ("GET", "/api/v1/records/conflicts"): "which fields differ between departments, no values",
    ("POST", "/api/v1/records/conflicts/{conflict_id}/resolve"): "a conflict's state",
    ("GET", "/api/v1/commitment"): "the commitment text",
    ("POST", "/api/v1/commitment"): "the commitment text",
    ("GET", "/api/v1/me/commitment"): "one's own signatures",
    ("POST", "/api/v1/me/commitment"): "one's own signature",
    ("GET", "/api/v1/letters"): "letters: who may see what, not the data",
    ("POST", "/api/v1/letters"): "letters",
    ("POST", "/api/v1/letters/requests"): "letters",
    ("GET", "/api/v1/letters/{letter_id}"): "letters",
    ("GET", "/api/v1/letters/{letter_id}/uses"): "access events, not the data",
    ("POST", "/api/v1/letters/{letter_id}/approve"): "letters",
    ("POST", "/api/v1/letters/{letter_id}/reject"): "letters",
    ("POST", "/api/v1/letters/{letter_id}/pause"): "letters",
    ("POST", "/api/v1/letters/{letter_id}/resume"): "letters",
    ("POST", "/api/v1/letters/{letter_id}/revoke"): "letters",
    ("GET", "/api/v1/me/access-log"): "access events about oneself",
    ("GET", "/api/v1/audit/events"): "access events, not the data",
    ("GET", "/api/v1/audit/ledger-leaves"): "which leaves are a party's, for auditors; logged",
    ("GET", "/api/v1/me/ledger-key"): "one's own key to the ledger's tags",
    ("GET", "/api/v1/audit/counts"): "counts",
    ("GET", "/api/v1/audit/flags"): "flags",
    ("GET", "/api/v1/privacy/rules"): "the rules",
    ("GET", "/api/v1/privacy/grades"): "the grading of the catalogue",
    ("GET", "/healthz"): "health",
    ("GET", "/readyz"): "readiness",
    ("GET", "/api/v1/ratings/runs"): "rating runs and their grade counts",
    ("POST", "/api/v1/ratings/runs"): "queues a rating run",
    ("GET", "/api/v1/ratings/model"): "the rating model in force (bins and points)",
    ("GET", "/api/v1/enterprises/{code}/associations/signals"): (
        "operator only; goes through the decision (operator's duty), tested in tests/graph"
    ),
    ("GET", "/api/v1/graph/circles"): (
        "the region's guarantee circles for the operator's supervision duty, not one "
        "enterprise's records"
    ),
    ("GET", "/api/v1/graph/analyses"): "analysis runs and their counts",
    ("GET", "/api/v1/graph/analyses/latest"): "analysis runs and their counts",
    ("POST", "/api/v1/graph/analyses"): "queues an analysis",
    # the financing marketplace (tests/market)
    ("GET", "/api/v1/products"): "the product supermarket: institutions' offers",
    ("POST", "/api/v1/products"): "an institution's product",
    ("GET", "/api/v1/products/{product_id}"): "an institution's product",
    ("PUT", "/api/v1/products/{product_id}"): "an institution's product",
    ("POST", "/api/v1/products/{product_id}/publish"): "an institution's product",
    ("POST", "/api/v1/products/{product_id}/pause"): "an institution's product",
    ("POST", "/api/v1/products/{product_id}/withdraw"): "an institution's product",
    ("GET", "/api/v1/products/{product_id}/transitions"): "an institution's product's history",
    ("GET", "/api/v1/institution/products"): "an institution's products",
    ("GET", "/api/v1/products/{product_id}/rules"): "an institution's rules",
    ("PUT", "/api/v1/products/{product_id}/rules"): "an institution's rules",
    ("POST", "/api/v1/needs"): "a need the enterprise posts to the market itself",
    ("GET", "/api/v1/needs"): "needs the enterprise posted to the market itself",
    ("GET", "/api/v1/needs/{need_id}"): "a need the enterprise posted to the market itself",
    ("POST", "/api/v1/needs/{need_id}/close"): "a need the enterprise posted",
    ("GET", "/api/v1/needs/{need_id}/matches"): (
        "products against a posted need: outcomes of rules on public facts; a rule on "
        "non-public data (grade, tax grade) only through the decision, else not checked "
        "(tests/market/test_matching_privacy.py)"
    ),
    ("GET", "/api/v1/institution/matches"): (
        "posted needs against the institution's products, as above"
    ),
    ("POST", "/api/v1/institution/webhooks"): "an institution's endpoints",
    ("GET", "/api/v1/institution/webhooks"): "an institution's endpoints",
    ("DELETE", "/api/v1/institution/webhooks/{endpoint_id}"): "an institution's endpoints",
    ("GET", "/api/v1/institution/webhooks/deliveries"): "need.matched deliveries, as above",
    ("GET", "/api/v1/institution/webhooks/deliveries/{delivery_id}"): (
        "one need.matched delivery and its attempts, as above"
    ),
    ("POST", "/api/v1/institution/webhooks/deliveries/{delivery_id}/redeliver"): (
        "a delivery sent again to the institution's own endpoint"
    ),
    ("POST", "/api/v1/institution/webhooks/{endpoint_id}/rotate-secret"): (
        "an institution's endpoint's signing secret"
    ),
    ("POST", "/api/v1/applications"): "an application; grants the letter, returns no records",
    ("GET", "/api/v1/applications"): "applications between the two parties",
    ("GET", "/api/v1/applications/{application_id}"): "an application between the parties",
    ("POST", "/api/v1/applications/{application_id}/accept"): "an application's state",
    ("POST", "/api/v1/applications/{application_id}/request-info"): "an application's state",
    ("POST", "/api/v1/applications/{application_id}/supply-info"): "an application's state",
    ("POST", "/api/v1/applications/{application_id}/withdraw"): "an application's state",
    ("POST", "/api/v1/applications/{application_id}/decision"): "an application's state",
    ("GET", "/api/v1/applications/{application_id}/report"): (
        "the credit report under the application's letter: goes through the decision "
        "(logged, refused after revocation), tested in tests/market"
    ),
    ("GET", "/api/v1/market/decision-times"): "decision-time figures",
    ("POST", "/api/v1/applications/{application_id}/disburse"): "a loan between the parties",
    ("GET", "/api/v1/loans"): "loans between the parties (the lender's loan book)",
    ("GET", "/api/v1/loans/{loan_id}"): "a loan between the parties",
    ("POST", "/api/v1/loans/{loan_id}/repayments"): "a loan between the parties",
    ("POST", "/api/v1/loans/{loan_id}/default"): "a loan's state",
    ("POST", "/api/v1/loans/{loan_id}/write-off"): "a loan's state",
    ("GET", "/api/v1/institution/loan-book"): "the lender's own loan book",
    # post-loan monitoring (tests/risk)
    ("GET", "/api/v1/risk/alerts"): (
        "the lender's alerts: kind, category and severity only; an associate linked by "
        "guarantee records named only through the decision"
    ),
    ("GET", "/api/v1/risk/alerts/{alert_id}"): (
        "one alert: its details only through the decision (post_loan_monitoring, logged), "
        "tested in tests/risk/test_api.py"
    ),
    ("POST", "/api/v1/risk/alerts/{alert_id}/acknowledge"): "an alert's state",
    ("POST", "/api/v1/risk/alerts/{alert_id}/act"): "an alert's state",
    ("POST", "/api/v1/risk/alerts/{alert_id}/close"): "an alert's state",
    # the financial blacklist and anti-fraud (tests/risk/test_blacklist*.py, test_fraud*.py)
    ("GET", "/api/v1/risk/blacklist"): (
        "listings the caller is party to: the institution's own proposals, the enterprise's "
        "own, every one for the operator's review"
    ),
    ("POST", "/api/v1/risk/blacklist"): "an institution's proposal, on its own loan or case",
    ("GET", "/api/v1/risk/blacklist/{listing_id}"): "a listing, to its parties only",
    ("GET", "/api/v1/risk/blacklist/{listing_id}/documents/{document_id}"): (
        "a document a party sent with a proposal or objection, to the parties only"
    ),
    ("POST", "/api/v1/risk/blacklist/{listing_id}/evidence"): "a proposal's documents",
    ("POST", "/api/v1/risk/blacklist/{listing_id}/review"): "a listing's state",
    ("POST", "/api/v1/risk/blacklist/{listing_id}/objection"): "a listing's state",
    ("POST", "/api/v1/risk/blacklist/{listing_id}/decision"): "a listing's state",
    ("POST", "/api/v1/risk/blacklist/{listing_id}/remove"): "a listing's state",
    ("GET", "/api/v1/risk/blacklist-status/{credit_code}"): (
        "a listing in force, read through the decision as category black_list (public in "
        "the shipped catalogue) and logged, tested in tests/risk/test_blacklist.py"
    ),
    ("GET", "/api/v1/risk/fraud/rules"): "the anti-fraud rules' configuration",
    ("POST", "/api/v1/risk/fraud/scan"): "runs the rules over applications (operator)",
    ("GET", "/api/v1/risk/fraud/overview"): "counts of cases by rule and state (operator)",
    ("GET", "/api/v1/risk/fraud/cases"): (
        "cases on the institution's own applications (hit counts only), every case for the operator"
    ),
    ("GET", "/api/v1/risk/fraud/cases/{case_id}"): (
        "a case on the institution's own application; the other applicants behind a hit "
        "to the operator only"
    ),
    ("POST", "/api/v1/risk/fraud/cases/{case_id}/notes"): "a case's notes",
    ("POST", "/api/v1/risk/fraud/cases/{case_id}/{action}"): "a case's state",
    ("GET", "/api/v1/risk/watchlist"): (
        "the enterprises the lender's live loans watch; associates linked by guarantee "
        "records named only through the decision"
    ),
    # early warning (tests/risk/test_warning_api.py): derived from the rating's categories,
    # every warning shown passes the decision (post_loan_monitoring), the others are withheld
    ("GET", "/api/v1/risk/warnings"): "early warnings, each through the decision (tests/risk)",
    (
        "GET",
        "/api/v1/risk/warnings/{loan_id}",
    ): "one early warning through the decision (tests/risk)",
    ("POST", "/api/v1/risk/warnings/refresh"): "queues a refresh; returns the code it was given",
    # subject rights (tests/rights): an objection names a record and what the enterprise
    # wrote, never the record's data; its parties only (the enterprise, the category's
    # source department, the operator)
    ("GET", "/api/v1/rights/objections"): "objections the caller is party to, no record data",
    ("POST", "/api/v1/rights/objections"): "an enterprise's objection to its own record",
    ("GET", "/api/v1/rights/objections/{objection_id}"): "an objection, to its parties",
    ("POST", "/api/v1/rights/objections/{objection_id}/moves"): (
        "an objection's state; a correction is the source department's own new version"
    ),
    ("POST", "/api/v1/rights/objections/{objection_id}/documents"): "an objection's proof",
    ("GET", "/api/v1/rights/objections/{objection_id}/documents/{document_id}"): (
        "the enterprise's own proof, to the objection's parties"
    ),
    ("GET", "/api/v1/rights/figures"): "counts of objections per handler (operator)",
    ("GET", "/api/v1/rights/notices"): "the caller's own rights inbox",
    ("GET", "/api/v1/rights/self-queries"): "the enterprise's own self-queries (counts, fees)",
    ("POST", "/api/v1/rights/self-queries"): (
        "the enterprise's own report (or the counter's for it): through the decision, basis "
        "self or operator_duty, logged; tested in tests/rights/test_self_query.py"
    ),
    ("POST", "/api/v1/rights/self-reports"): "the enterprise's report about itself",
    ("GET", "/api/v1/rights/self-reports"): (
        "the enterprise's own items; departments and the operator see them to confirm"
    ),
    ("POST", "/api/v1/rights/self-reports/{report_id}/confirmation"): "a department's check",
    ("POST", "/api/v1/rights/restructurings"): "the operator records a court's decision",
    ("GET", "/api/v1/rights/restructurings/{credit_code}"): (
        "a court's published restructuring decisions (public), no record data"
    ),
    ("GET", "/api/v1/rights/repair-rules"): "the repair conditions (configuration)",
    ("GET", "/api/v1/rights/repairs"): "repair applications the caller is party to",
    ("POST", "/api/v1/rights/repairs"): "an enterprise's application over its own record",
    ("GET", "/api/v1/rights/repairs/{repair_id}"): "a repair application, to its parties",
    ("POST", "/api/v1/rights/repairs/{repair_id}/moves"): "a repair application's state",
    ("GET", "/api/v1/rights/repairs/{repair_id}/documents/{document_id}"): (
        "the enterprise's own documents, to the application's parties"
    ),
    # risk sharing (tests/sharing): contracts and claims seen by their parties only, as the
    # marketplace's loans are; no enterprise records
    ("GET", "/api/v1/sharing/schemes"): "the schemes' terms (public to members)",
    ("POST", "/api/v1/sharing/schemes"): "the operator's scheme",
    ("GET", "/api/v1/sharing/schemes/{scheme_id}"): "a scheme's terms",
    ("PUT", "/api/v1/sharing/schemes/{scheme_id}"): "the operator's scheme",
    ("POST", "/api/v1/sharing/schemes/{scheme_id}/transitions"): "a scheme's state",
    ("GET", "/api/v1/sharing/enrolments"): (
        "guarantee contracts of loans the caller is party to (lender, guarantor, borrower)"
    ),
    ("POST", "/api/v1/sharing/enrolments"): "the guarantor's acceptance of a loan",
    ("GET", "/api/v1/sharing/loans/{loan_id}"): "a loan's guarantee contract, to its parties",
    (
        "GET",
        "/api/v1/sharing/claims",
    ): "claims the caller filed or guarantees; all for the operator",
    ("POST", "/api/v1/sharing/claims"): "the lender's claim on its own loan",
    ("GET", "/api/v1/sharing/claims/{claim_id}"): "a claim, to its parties and the operator",
    ("POST", "/api/v1/sharing/claims/{claim_id}/transitions"): "a claim's state",
    ("POST", "/api/v1/sharing/claims/{claim_id}/recoveries"): "a claim's recoveries",
    ("POST", "/api/v1/sharing/claims/{claim_id}/documents"): "the lender's own files",
    ("GET", "/api/v1/sharing/claims/{claim_id}/documents/{document_id}"): (
        "the lender's files, to the claim's parties and the operator"
    ),
    ("GET", "/api/v1/sharing/pools"): "public money in regional pools (operator)",
    ("POST", "/api/v1/sharing/pools"): "the operator's pool",
    ("GET", "/api/v1/sharing/pools/{pool_id}"): "a pool's balance (operator)",
    ("POST", "/api/v1/sharing/pools/{pool_id}/top-ups"): "a pool's balance",
    ("GET", "/api/v1/sharing/pools/{pool_id}/movements"): "a pool's movements (operator)",
    ("GET", "/api/v1/sharing/pools/{pool_id}/statement"): "a pool's statement (operator)",
    ("GET", "/api/v1/sharing/subsidy-schemes"): "the subsidy schemes' terms",
    ("POST", "/api/v1/sharing/subsidy-schemes"): "the operator's subsidy scheme",
    ("POST", "/api/v1/sharing/subsidy-schemes/{scheme_id}/transitions"): "a scheme's state",
    ("GET", "/api/v1/sharing/subsidy-batches"): "the bank's own applications; all for the operator",
    ("POST", "/api/v1/sharing/subsidy-batches"): "subsidies of the bank's own loans' repayments",
    (
        "GET",
        "/api/v1/sharing/subsidy-batches/{batch_id}",
    ): "an application, to the bank and operator",
    ("POST", "/api/v1/sharing/subsidy-batches/{batch_id}/transitions"): "an application's state",
    ("GET", "/api/v1/sharing/subsidies"): "the subsidies paid to the caller's own enterprise",
    # joint modelling (tests/joint)
    ("GET", "/api/v1/joint/thresholds"): (
        "the caller's own threshold answers: the yes or no each decision already allowed"
    ),
    ("POST", "/api/v1/joint/alignments"): (
        "blinded points of enterprises whose letters allow joint_modelling to the caller "
        "(pseudo-random without its secret); no record data"
    ),
    ("POST", "/api/v1/joint/alignments/{alignment_id}/matches"): (
        "the institution's own matches; answers sizes only"
    ),
    ("GET", "/api/v1/joint/alignments"): "alignments' sizes, to the institution and operator",
    # statistics (tests/stats): aggregates over many subjects, never one enterprise's data;
    # breakdown cells under stats.min_cell are suppressed for every reader but the operator
    ("GET", "/api/v1/stats/figures"): "the list of figures",
    ("GET", "/api/v1/stats/table"): "aggregate figures; small cells suppressed",
    ("GET", "/api/v1/stats/export"): "the same aggregates as a file",
    ("GET", "/api/v1/stats/targets"): "region-wide totals against configured targets",
    ("POST", "/api/v1/stats/refresh"): "recomputes the summary; returns counts of rows",
    ("GET", "/api/v1/stats/cases"): "typical cases the operator wrote (an enterprise named "
    "only with its consent recorded)",
    ("POST", "/api/v1/stats/cases"): "writes a case",
    ("GET", "/api/v1/stats/cases/{case_id}"): "one case the operator wrote",
    ("POST", "/api/v1/stats/cases/{case_id}/consent"): "records an enterprise's consent",
    ("POST", "/api/v1/stats/cases/{case_id}/{move}"): "a case's state",
    ("GET", "/api/v1/stats/evaluation/method"): "the year's evaluation method (configuration)",
    ("GET", "/api/v1/stats/evaluation"): "institutions' and regions' scores from aggregates",
    ("GET", "/api/v1/stats/bulletins"): "the archive of monthly bulletins",
    ("POST", "/api/v1/stats/bulletins"): "generates a bulletin of region-wide aggregates",
    ("GET", "/api/v1/stats/bulletins/{month}"): "a bulletin: region-wide aggregates, rankings",
    ("GET", "/api/v1/stats/bulletins/{month}/pdf"): "the same bulletin as a PDF",
    ("GET", "/api/v1/federation/identity"): "this node's name and public key",
    ("GET", "/api/v1/federation/nodes"): "the registry of peer nodes (operator)",
    ("POST", "/api/v1/federation/nodes"): "registers a peer node (operator)",
    ("GET", "/api/v1/federation/nodes/{name}"): "a peer node, its marks and lag (operator)",
    ("PATCH", "/api/v1/federation/nodes/{name}"): "changes a peer node (operator)",
    ("GET", "/api/v1/federation/messages"): "messages' ids, kinds, counts and digests",
    ("GET", "/api/v1/federation/refusals"): "refused messages' ids and reasons",
    ("GET", "/api/v1/federation/received"): "counts received per node and category",
    ("GET", "/api/v1/federation/usage"): "record ids used for loans, no record data",
    ("POST", "/api/v1/federation/usage"): "notes records used for a loan",
    ("POST", "/api/v1/federation/inbox"): (
        "another node's signed message in; answers a signed receipt (marks and counts)"
    ),
    # supervision (tests/supervision): institutions' own security documents and the
    # operator's findings about them, never an enterprise's data
    ("GET", "/api/v1/supervision/agreement"): "the confidentiality agreement's text",
    ("GET", "/api/v1/supervision/agreement/versions"): "the agreement's versions",
    ("POST", "/api/v1/supervision/agreement"): "publishes a version",
    ("POST", "/api/v1/supervision/agreement/signatures"): "an institution's signature",
    ("GET", "/api/v1/supervision/agreement/signatures"): "who signed which version",
    ("GET", "/api/v1/supervision/checklist"): "the security checklist",
    ("POST", "/api/v1/supervision/checklist"): "edits the checklist",
    ("GET", "/api/v1/supervision/assessments"): "institutions' security assessments",
    ("POST", "/api/v1/supervision/assessments"): "opens an assessment",
    ("GET", "/api/v1/supervision/assessments/queue"): "assessments waiting for review",
    ("GET", "/api/v1/supervision/assessments/{assessment_id}"): "one assessment's answers",
    ("POST", "/api/v1/supervision/assessments/{assessment_id}/answers"): "an answer",
    (
        "GET",
        "/api/v1/supervision/assessments/{assessment_id}/answers/{item_code}/evidence",
    ): "an institution's own evidence file",
    ("POST", "/api/v1/supervision/assessments/{assessment_id}/submit"): "an assessment's state",
    ("POST", "/api/v1/supervision/assessments/{assessment_id}/reviews"): "an item's review",
    ("POST", "/api/v1/supervision/assessments/{assessment_id}/decision"): "the decision",
    ("GET", "/api/v1/supervision/institutions"): "institutions' levels and holds",
    ("GET", "/api/v1/supervision/findings"): "findings against institutions",
    ("POST", "/api/v1/supervision/findings"): "opens a finding (names an access event by id)",
    ("POST", "/api/v1/supervision/findings/scan"): "findings from the access log's flags",
    ("GET", "/api/v1/supervision/findings/{finding_id}"): "one finding",
    ("POST", "/api/v1/supervision/findings/{finding_id}/transitions"): "a finding's state",
}


def _api_routes(client: TestClient) -> set[tuple[str, str]]:
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def test_every_route_is_classified(client: TestClient) -> None:
    routes = _api_routes(client)
    unclassified = routes - set(DATA_ROUTES) - set(NO_RECORDS)
    assert unclassified == set(), "classify these routes in this test"
    gone = (set(DATA_ROUTES) | set(NO_RECORDS)) - routes
    assert gone == set()


ALL_DATA_CALLS = {f"{m} {p}": call for (m, p), call in DATA_ROUTES.items()} | EXPORTS


@pytest.mark.parametrize("call", ALL_DATA_CALLS.values(), ids=list(ALL_DATA_CALLS))
def test_every_data_route_goes_through_the_decision(
    client: TestClient,
    auth: Auth,
    world: World,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    call: Callable[[TestClient, dict[str, str]], Any],
) -> None:
    grant(
        session,
        world,
        categories=sorted(
            {"tax_payment", "registration", "shareholder", "guarantee"}
            | set(features.source_categories())
        ),
        levels=["personal"],
    )
    grant(session, world, purpose="verification")
    real = consent_service.decide
    seen: list[dict[str, Any]] = []

    def spy(*args: Any, **kwargs: Any) -> Decision:
        seen.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(consent_service, "decide", spy)
    answered = call(client, auth("bank"))
    assert answered.status_code == 200, answered.text
    assert len(seen) == 1
    [event] = events(session)
    assert (event.outcome, event.subject, event.actor) == ("allow", CODE, "user:bank")
    assert event.channel.startswith("api:")

    def refusing(*args: Any, **kwargs: Any) -> Decision:
        decision = real(*args, **kwargs)
        return dataclasses.replace(decision, outcome="deny", grants={}, reason="no_basis")

    monkeypatch.setattr(consent_service, "decide", refusing)
    refused = call(client, auth("bank"))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "no_basis"
    assert TAX_PAID not in refused.text
    assert LEGAL_REPRESENTATIVE not in refused.text
    assert len(events(session)) == 2
