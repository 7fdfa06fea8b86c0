"""The JSON envelope of the Management API: a mechanical conversion of its XML.

Attributes carry "@"; one repeated item is an object, several an array; an
application error is HTTP 200 with "@status": "0" and an error node.
"""

from __future__ import annotations

from .model import error_item

HTML_503 = '<html><head><title>Apache Tomcat - Error report</title></head><body><h1>HTTP Status 503 - Service Unavailable</h1></body></html>'
HTML_500 = '<html><head><title>Apache Tomcat - Error report</title></head><body><h1>HTTP Status 500 - Internal Server Error</h1></body></html>'


def one_or_many(items):
    return items[0] if len(items) == 1 else items


def response(status, data):
    return {'response': {'@status': status, 'data': data}}


def records(items):
    """A successful GET: "@totalRecords" and the objects; no ws_object at all when there are none."""
    data = {'@totalRecords': str(len(items))}
    if items:
        data['ws_object'] = one_or_many(items)
    return response('1', data)


def written(entity_items, reboot_required):
    """A successful write: the entities with their GUIDs, ModifiedEntities and the reboot hint."""
    items = list(entity_items) + [{'ModifiedEntities': ''}, {'reboot': {'@type': 'required' if reboot_required else 'normal'}}]
    return response('1', {'ws_object': items})


def error_node(node_name, errors):
    return {'@error_node': 'true', node_name: {'error': one_or_many(errors)}}


def failed(nodes):
    return response('0', {'ws_object': one_or_many(nodes)})


def sma_error(code, desc, location, cause_data=''):
    return failed([error_node('SMAError', [error_item(code, desc, cause_data, location)])])


def session_timeout(location):
    # Exactly as the guide shows it: error_desc and errorLocation both hold the node's address.
    return failed([error_node('SMAError', [{'error_code': '461:SessionTimeout', 'error_desc': location, 'errorLocation': location}])])


def entity_errors(failures, location):
    """Write errors: one node per failing object, then the REBOOT node the guide shows after them."""
    nodes = [error_node(upper, errors) for upper, errors in failures]
    nodes.append(error_node('REBOOT', [{'errorLocation': location}]))
    return failed(nodes)
