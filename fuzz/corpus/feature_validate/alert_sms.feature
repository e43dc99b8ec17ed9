Feature: Alert SMS on a single press
  A single press on the button sends the wearer's message with the position to
  every emergency contact, exactly once.

  Background:
    Given a button paired with a phone
    And the phone is at 48.8566, 2.3522

  @smoke @hil
  Scenario: One contact is alerted
    Given the phone has 1 emergency contacts
    When the wearer presses the button
    Then within 5 s every contact receives an SMS
    And 1 contacts receive an SMS containing "I need help."
    And every SMS contains the location 48.8566, 2.3522
    And within 5 s the button vibrates the "sent" pattern
    And exactly 1 SMS are sent

  Scenario: Three contacts are alerted
    Given the phone has 3 emergency contacts
    When the wearer presses the button
    Then within 5 s every contact receives an SMS
    When 1 minutes pass
    Then exactly 3 SMS are sent

  Scenario: Five contacts are alerted, once each
    Given the phone has 5 emergency contacts
    When the wearer presses the button
    And 10 seconds pass
    Then every contact receives an SMS
    And 5 contacts receive an SMS containing "I need help."
    And exactly 5 SMS are sent
    And no call is placed

  @hil
  Scenario: A named contacts table
    Given the emergency contacts:
      | name  | phone        |
      | Alice | +33611111111 |
      | Bob   | +447700900123 |
    When the wearer presses the button
    Then within 5 s contact "Alice" receives an SMS containing "I need help."
    And within 5 s contact "Bob" receives an SMS containing "openstreetmap.org"
    And exactly 2 SMS are sent

  Scenario: A custom message
    Given the phone has 2 emergency contacts
    And the wearer's alert message is "Come quickly, I am at home"
    When the wearer presses the button
    Then within 5 s 2 contacts receive an SMS containing "Come quickly, I am at home"
    And 0 contacts receive an SMS containing "I need help."

  Scenario: A press shorter than 40 ms is noise
    Given the phone has 3 emergency contacts
    When the wearer presses the button for 30 ms
    And 30 seconds pass
    Then no SMS is sent
    And no alert is raised

  Scenario Outline: Raw presses around the noise limit
    Given the phone has 1 emergency contacts
    When the wearer presses the button for <ms> ms
    And 10 seconds pass
    Then exactly <sms> SMS are sent

    Examples:
      | ms  | sms |
      | 39  | 0   |
      | 40  | 1   |
      | 120 | 1   |

  Scenario: Givens configure in any order
    Given the phone is at 45.5, -73.5
    And the random seed is 7
    And the phone has 2 emergency contacts
    When the wearer presses the button
    Then within 5 s every SMS contains the location 45.5, -73.5

  Scenario: No fix: sent with "position unknown", then followed up
    Given the phone has 1 emergency contacts
    And the phone has no location fix
    When the wearer presses the button
    Then within 15 s contact "Contact 1" receives an SMS containing "position unknown"
    When the phone gets a location fix at 43.2965, 5.3698
    Then within 5 s contact "Contact 1" receives an SMS containing "43.296500"
