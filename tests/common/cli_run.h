// Runs masklens-cli (MASKLENS_CLI, defined by the test's CMake target) and
// collects its exit code, standard output and errors ("note:" lines, which
// say which device --device auto chose, left out). A hang is reported, not
// waited for.
#pragma once

#include <QProcess>
#include <QString>
#include <QStringList>

namespace masklens::testing {

struct CliRun {
    int exit_code = -1; // -2: crashed
    QString out;
    QString err;
};

inline CliRun run_cli(const QStringList& arguments)
{
    QProcess process;
    process.start(QStringLiteral(MASKLENS_CLI), arguments);
    CliRun run;
    if (!process.waitForFinished(60000)) {
        process.kill();
        run.err = "timed out (a hang)";
        return run;
    }
    run.exit_code = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -2;
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    for (const QString& line : QString::fromUtf8(process.readAllStandardError()).split('\n')) {
        if (!line.isEmpty() && !line.startsWith("note: ")) {
            run.err += line + '\n';
        }
    }
    return run;
}

} // namespace masklens::testing
