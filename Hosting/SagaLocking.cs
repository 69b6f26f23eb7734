using System.Collections.Concurrent;
using JasperFx;
using JasperFx.CodeGeneration;
using JasperFx.CodeGeneration.Frames;
using JasperFx.CodeGeneration.Model;
using JasperFx.Core.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Wolverine.Configuration;
using Wolverine.Persistence.Sagas;
using Wolverine.Runtime.Handlers;

namespace Conveyor.Hosting;

/// <summary>
/// The steps of one saga take turns: each handler's transaction locks the saga's row (<c>SELECT … FOR UPDATE</c>)
/// before Wolverine loads it, so an order's payment and stock answers, arriving together, no longer both load
/// version N and have one fail on the concurrency token, roll back and run again. The second waits for the first's
/// commit and reads what it wrote. The concurrency token stays, for whatever does not take the lock.
/// </summary>
/// <remarks>
/// Written here because Wolverine's EF Core saga support loads with <c>FindAsync</c> and offers no pessimistic
/// option. The locking query also loads the saga into the change tracker, where Wolverine's <c>FindAsync</c> then
/// finds it: no extra round trip.
/// </remarks>
internal sealed class LockSagasBeforeLoading(Type dbContextType) : IHandlerPolicy
{
    public void Apply(IReadOnlyList<HandlerChain> chains, GenerationRules rules, IServiceContainer container)
    {
        foreach (var chain in chains.OfType<SagaChain>().Where(c => c.SagaIdMember is not null))
        {
            chain.Middleware.Add(new LockSagaFrame(dbContextType, chain.MessageType, chain.SagaType, chain.SagaIdMember!.Name));
        }
    }

    private sealed class LockSagaFrame(Type dbContextType, Type messageType, Type sagaType, string sagaIdMember) : AsyncFrame
    {
        private Variable? _db;
        private Variable? _message;
        private Variable? _cancellation;

        public override IEnumerable<Variable> FindVariables(IMethodVariables chain)
        {
            _db = chain.FindVariable(dbContextType);
            yield return _db;
            _message = chain.FindVariable(messageType);
            yield return _message;
            _cancellation = chain.FindVariable(typeof(CancellationToken));
            yield return _cancellation;
        }

        public override void GenerateCode(GeneratedMethod method, ISourceWriter writer)
        {
            writer.WriteComment("Wait for any other step of this saga to commit, then load the saga as it left it");
            writer.Write($"await {typeof(SagaLock).FullNameInCode()}.{nameof(SagaLock.LockAsync)}<{sagaType.FullNameInCode()}>({_db!.Usage}, {_message!.Usage}.{sagaIdMember}, {_cancellation!.Usage}).ConfigureAwait(false);");
            Next?.GenerateCode(method, writer);
        }
    }
}

/// <summary>Called by the generated handler code (<see cref="LockSagasBeforeLoading"/>).</summary>
public static class SagaLock
{
    private static readonly ConcurrentDictionary<(Type, Type), string> Statements = new();

    /// <summary>Locks the saga's row for the rest of the transaction and tracks the saga; does nothing if there is none.</summary>
    public static async Task LockAsync<TSaga>(DbContext db, object id, CancellationToken cancellation)
        where TSaga : class
    {
        if (db.Database.CurrentTransaction is null) throw new InvalidOperationException($"{typeof(TSaga).Name} is locked inside the handler's transaction, and this handler has none.");
        var statement = Statements.GetOrAdd((db.GetType(), typeof(TSaga)), _ => LockStatement(db, typeof(TSaga)));
        await db.Set<TSaga>().FromSqlRaw(statement, id).AsTracking().ToListAsync(cancellation).ConfigureAwait(false);
    }

    private static string LockStatement(DbContext db, Type sagaType)
    {
        var entity = db.Model.FindEntityType(sagaType) ?? throw new InvalidOperationException($"{sagaType} is not mapped in {db.GetType().Name}.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var key = entity.FindPrimaryKey()!.Properties.Single().GetColumnName(table)!;
        // The model's columns, not *: a prepared `SELECT *` fails once on each connection after another instance's
        // migration adds a column ("cached plan must not change result type").
        var columns = entity.GetProperties().Select(p => p.GetColumnName(table)!)
            .Concat(entity.GetNavigations().Select(n => n.TargetEntityType).Where(t => t.IsMappedToJson()).Select(t => t.GetContainerColumnName()!));
        var sql = db.GetService<ISqlGenerationHelper>();
        return $"SELECT {string.Join(", ", columns.Select(c => sql.DelimitIdentifier(c)))} FROM {sql.DelimitIdentifier(table.Name, table.Schema)} WHERE {sql.DelimitIdentifier(key)} = {{0}} FOR UPDATE";
    }
}
