// The one background-job pattern of the app's presenters (evaluations,
// surface distances, difference counts), written once: a job runs on a
// thread pool with its own cancel flag; its result is delivered on the
// owner's thread, unless a newer job replaced it or it was stopped. Qt Core
// and Qt Concurrent only (no widgets).
//
//     LatestJob<Counts> counts_{this, background_pool()};
//     counts_.start([key](const std::atomic<bool>& cancel) { return count(key, &cancel); },
//                   [this](Counts counts) { show(counts); });
#pragma once

#include <QCoreApplication>
#include <QFutureWatcher>
#include <QObject>
#include <QThreadPool>
#include <QtConcurrent>

#include <atomic>
#include <functional>
#include <memory>
#include <utility>

namespace masklens::ui {

template <class Result> class LatestJob {
public:
    using Work = std::function<Result(const std::atomic<bool>& cancel)>;
    using Deliver = std::function<void(Result)>;

    // `pool`: where jobs run (nullptr: Qt's global pool). `owner` receives
    // the deliveries (on its thread) and must outlive this object.
    explicit LatestJob(QObject* owner, QThreadPool* pool = nullptr) : owner_(owner), pool_(pool) {}
    ~LatestJob() { stop(true); }
    LatestJob(const LatestJob&) = delete;
    LatestJob& operator=(const LatestJob&) = delete;

    // Replaces the running job (its flag is set and its result dropped) with
    // `work`. `synchronous`: runs it now on this thread and delivers before
    // returning (tests and scripted runs).
    void start(Work work, Deliver deliver, bool synchronous = false)
    {
        stop(false);
        auto cancel = std::make_shared<std::atomic<bool>>(false);
        cancel_ = cancel;
        if (synchronous) {
            deliver(work(*cancel));
            return;
        }
        deliver_ = std::move(deliver);
        watcher_ = std::make_unique<QFutureWatcher<Result>>();
        QFutureWatcher<Result>* watcher = watcher_.get();
        QObject::connect(watcher, &QFutureWatcher<Result>::finished, owner_,
                         [this, watcher]() { deliverFrom(watcher); });
        auto run = [work = std::move(work), cancel]() { return work(*cancel); };
        watcher->setFuture(pool_ ? QtConcurrent::run(pool_, std::move(run))
                                 : QtConcurrent::run(std::move(run)));
    }

    // Sets the running job's cancel flag; its result (usually
    // Error::Cancelled turned into a value) is still delivered.
    void requestCancel()
    {
        if (cancel_) {
            cancel_->store(true);
        }
    }

    // Cancels the running job and drops its result. `wait`: also blocks
    // until it has finished (before destroying what it reads).
    void stop(bool wait)
    {
        requestCancel();
        if (!watcher_) {
            return;
        }
        QObject::disconnect(watcher_.get(), nullptr, owner_, nullptr);
        if (wait) {
            watcher_->waitForFinished();
        }
        // Not deleted now: stop() may run inside the watcher's own signal.
        watcher_.release()->deleteLater();
        deliver_ = nullptr;
    }

    // A job runs whose result will be delivered.
    bool running() const noexcept { return watcher_ != nullptr; }
    // The running (or last) job's cancel flag is set.
    bool cancelRequested() const noexcept { return cancel_ && cancel_->load(); }

    // Blocks until the running job has finished and its result is delivered,
    // processing the owner thread's events meanwhile: what the job queued
    // before finishing (progress, previews) arrives first, in order.
    void wait()
    {
        QFutureWatcher<Result>* watcher = watcher_.get();
        if (!watcher) {
            return;
        }
        watcher->waitForFinished();
        while (watcher_.get() == watcher) {
            QCoreApplication::processEvents(QEventLoop::AllEvents);
        }
    }

    // The running job's result without delivering it (it is still delivered
    // later); blocks until it is there. Call only while running().
    Result peekResult() const
    {
        watcher_->waitForFinished();
        return watcher_->result();
    }

private:
    void deliverFrom(QFutureWatcher<Result>* watcher)
    {
        if (watcher != watcher_.get()) {
            return; // replaced or stopped
        }
        Result result = watcher->result();
        watcher_.release()->deleteLater();
        Deliver deliver = std::move(deliver_);
        deliver_ = nullptr;
        // Last: the delivery may start the next job.
        deliver(std::move(result));
    }

    QObject* owner_;
    QThreadPool* pool_;
    std::shared_ptr<std::atomic<bool>> cancel_;
    std::unique_ptr<QFutureWatcher<Result>> watcher_;
    Deliver deliver_;
};

} // namespace masklens::ui
