# R survey's svymean/svyby on the sample bench/poverty_fgt.py writes: the figure a statistician compares.
# Usage: Rscript bench/poverty_fgt.R SAMPLE.csv LINE  (needs r-base-core and r-cran-survey)
suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
line <- as.numeric(args[2])
options(survey.lonely.psu = "adjust")
load_time <- system.time(d <- read.csv(args[1]))[["elapsed"]]
d$pw <- d$weight * d$size
d$poor <- as.numeric(d$consumption < line)
d$gap <- ifelse(d$consumption < line, (line - d$consumption) / line, 0)
d$severity <- d$gap^2
design_time <- system.time(des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~pw, nest = TRUE, data = d))[["elapsed"]]
best <- function(f, n = 3) min(sapply(seq_len(n), function(i) system.time(f())[["elapsed"]]))
overall <- best(function() svymean(~poor + gap + severity, des))
by_domain <- best(function() svyby(~poor + gap + severity, ~domain, des, svymean), 1)
p0 <- coef(svymean(~poor, des))[["poor"]]
cat(sprintf("r_read_s %.3f\nr_design_s %.3f\nr_svymean_s %.3f\nr_svyby_s %.3f\nr_p0 %.6f\n",
            load_time, design_time, overall, by_domain, 100 * p0))
