# Reference values for tests/test_poverty_reference.py, computed with R's survey package.
# Run from the repository root:  Rscript tests/data/poverty_reference.R
# Writes tests/data/poverty_reference.json (R 4.x, survey 4.1.x).
#
# Design: svydesign(ids=~psu, strata=~strata, weights=~w, nest=TRUE), PSUs with
# replacement within strata; single-PSU strata under both "adjust" and "certainty".
# Household file: person weight = household weight x household size, consumption
# per capita = household total / size. A person is poor when consumption < line.
suppressPackageStartupMessages(library(survey))

fgt_vars <- function(d, y, z) {
  gap <- pmax(1 - y / z, 0)
  d$f0 <- as.numeric(y < z)
  d$f1 <- gap
  d$f2 <- gap^2
  d
}

summarise <- function(des, label) {
  m <- svymean(~f0 + f1 + f2, des, deff = "replace")
  t <- svytotal(~f0, des)
  list(domain = label,
       n = nrow(des$variables[weights(des) > 0, , drop = FALSE]),
       population = sum(weights(des)),
       poor = unname(coef(t)), se_poor = unname(SE(t)),
       p0 = 100 * unname(coef(m)[1]), p1 = 100 * unname(coef(m)[2]), p2 = 100 * unname(coef(m)[3]),
       se_p0 = 100 * unname(SE(m)[1]), se_p1 = 100 * unname(SE(m)[2]), se_p2 = 100 * unname(SE(m)[3]),
       deff_p0 = unname(deff(m)[1]), deff_p1 = unname(deff(m)[2]), deff_p2 = unname(deff(m)[3]))
}

estimates <- function(des, by) {
  out <- list(summarise(des, NULL))
  # svyby-style domains: the subset keeps the full design (zero weights outside the domain).
  for (level in sort(unique(as.character(des$variables[[by]])))) {
    out[[length(out) + 1]] <- summarise(subset(des, des$variables[[by]] == level), level)
  }
  out
}

# svyby gives the same domain numbers; check that on one statistic so the loop above is not a private invention.
check_svyby <- function(des, by) {
  b <- svyby(~f0, as.formula(paste0("~", by)), des, svymean)
  for (level in rownames(b)) {
    s <- svymean(~f0, subset(des, des$variables[[by]] == level))
    stopifnot(abs(coef(s) - b[level, "f0"]) < 1e-12, abs(SE(s) - b[level, "se"]) < 1e-12)
  }
}

results <- list()
for (lonely in c("adjust", "certainty")) {
  options(survey.lonely.psu = lonely)

  p <- read.csv("tests/data/poverty_person.csv", stringsAsFactors = FALSE)
  p <- fgt_vars(p, p$pengeluaran_kapita, p$garis)
  dp <- svydesign(ids = ~psu, strata = ~strata, weights = ~bobot, nest = TRUE, data = p)
  check_svyby(dp, "kecamatan")
  results[[paste0("person_", lonely)]] <- list(
    by_kecamatan = estimates(dp, "kecamatan"),
    by_wilayah = estimates(dp, "wilayah"))

  h <- read.csv("tests/data/poverty_household.csv", stringsAsFactors = FALSE)
  h$pw <- h$bobot_ruta * h$art
  h <- fgt_vars(h, h$pengeluaran_ruta / h$art, 842927)
  dh <- svydesign(ids = ~bs, strata = ~strata, weights = ~pw, nest = TRUE, data = h)
  check_svyby(dh, "kelurahan")
  results[[paste0("household_", lonely)]] <- list(by_kelurahan = estimates(dh, "kelurahan"))

  # No strata, no PSUs: every household its own PSU in one stratum.
  ds <- svydesign(ids = ~1, weights = ~pw, data = h)
  results[[paste0("household_srs_", lonely)]] <- list(overall = estimates(ds, "kelurahan")[1])
}

json_value <- function(x) {
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (!is.null(names(x))) {
      return(paste0("{", paste0('"', names(x), '": ', vapply(x, json_value, ""), collapse = ", "), "}"))
    }
    return(paste0("[", paste0(vapply(x, json_value, ""), collapse = ",\n"), "]"))
  }
  if (is.character(x)) return(paste0('"', x, '"'))
  if (is.na(x) || !is.finite(x)) return("null")
  formatC(x, digits = 17, format = "g")
}
writeLines(json_value(results), "tests/data/poverty_reference.json")
